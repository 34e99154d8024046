#!/usr/bin/env bash
# kproducer's core builds without std (bare metal) and for the browser, and names no tokio.
set -euo pipefail
cargo build -q -p kproducer --no-default-features --target thumbv7em-none-eabihf
cargo build -q -p kproducer --no-default-features --features gzip,lz4,zstd --target wasm32-unknown-unknown
if cargo tree -e normal -p kproducer --no-default-features | grep -q tokio; then
  echo "kproducer without features depends on tokio" >&2; exit 1
fi
echo "kproducer: thumbv7em-none-eabihf (no_std) and wasm32-unknown-unknown build; no tokio in its tree"
