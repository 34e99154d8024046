#!/usr/bin/env bash
# kproto builds for the browser (wasm32) and bare-metal no_std (thumbv7em): no std sneaks in.
set -euo pipefail
cargo build -q -p kproto --target wasm32-unknown-unknown
cargo build -q -p kproto --no-default-features --target thumbv7em-none-eabihf
echo "kproto: wasm32-unknown-unknown and thumbv7em-none-eabihf (no_std) build"
