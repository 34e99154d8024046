#!/usr/bin/env bash
# kproto's record batches with their codecs on targets without an OS (40-kproto-builds.sh
# covers the default features on wasm32 and no features on thumbv7em): every codec whose crate
# is no_std (gzip, lz4, zstd; snappy's crate needs std) on a Cortex-M4F and on wasm32 without
# std. A codec dependency that pulls in std fails here the day it arrives.
set -euo pipefail
cargo build -q -p kproto --no-default-features --features gzip,lz4,zstd --target thumbv7em-none-eabihf
cargo build -q -p kproto --no-default-features --features gzip,lz4,zstd --target wasm32-unknown-unknown
echo "kproto records: gzip, lz4, zstd build no_std for thumbv7em-none-eabihf and wasm32-unknown-unknown"
