#!/usr/bin/env bash
# klog builds without std (bare metal), for wasm32, and with its file-system storage for WASI.
set -euo pipefail
cargo build -p klog --no-default-features --target thumbv7em-none-eabihf
cargo build -p klog --no-default-features --features gzip,lz4,zstd --target thumbv7em-none-eabihf
cargo build -p klog --no-default-features --target wasm32-unknown-unknown
cargo build -p klog --target wasm32-wasip1
