#!/usr/bin/env bash
# Rust targets for the no_std / wasm builds, and the nightly toolchain + cargo-fuzz for fuzzing.
set -euo pipefail
want="wasm32-unknown-unknown wasm32-wasip1 wasm32-wasip2 thumbv7em-none-eabihf"
have=$(rustup target list --installed)
missing=""
for t in $want; do grep -qx "$t" <<<"$have" || missing="$missing $t"; done
[ -z "$missing" ] || rustup target add $missing
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
