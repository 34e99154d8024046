#!/usr/bin/env bash
# The pinned toolchain of rust-toolchain.toml (with its components and targets), and the
# nightly toolchain + cargo-fuzz for fuzzing. rustup itself cannot be installed here (its
# installer is not on any reachable registry): without it this fails with that reason.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v rustup >/dev/null 2>&1; then
  echo "10-rust: rustup is not installed, and its installer cannot be fetched on this network." >&2
  echo "10-rust: install rustup (e.g. Debian's 'rustup' package where available) and re-run." >&2
  exit 1
fi
channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
targets="wasm32-unknown-unknown wasm32-wasip1 wasm32-wasip2 thumbv7em-none-eabihf"
if ! rustup toolchain list | grep -q "^$channel"; then
  rustup toolchain install "$channel" --profile minimal --component rustfmt,clippy
fi
have=$(rustup +"$channel" target list --installed)
missing=""
for t in $targets; do grep -qx "$t" <<<"$have" || missing="$missing $t"; done
[ -z "$missing" ] || rustup +"$channel" target add $missing
have=$(rustup +"$channel" component list --installed)
for c in rustfmt clippy; do grep -q "^$c" <<<"$have" || rustup +"$channel" component add "$c"; done
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
