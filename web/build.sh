#!/usr/bin/env bash
# Builds the inspector's page into web/dist/: the wasm module (release, size-tuned), its
# wasm-bindgen JS glue (--target web), with WASM_OPT=1 wasm-opt -Oz from binaryen (web/e2e's npm
# packages; measured: it shrinks the raw .wasm but not its gzip size, and takes minutes), and
# the static files of web/www/. The wasm's `name` section (function names for stack traces:
# 447 KB, 98 KB of the gzip size) and `producers` section are left out unless WASM_NAMES=1
# (for profiling, e.g. with twiggy). Prints the .wasm's size and gzip size, and fails when the
# gzip size is above WASM_GZIP_CEILING bytes (when set).
set -euo pipefail
cd "$(dirname "$0")"
want=0.2.130
have=$(wasm-bindgen --version 2>/dev/null || true)
if [ "$have" != "wasm-bindgen $want" ]; then
  echo "build.sh: wasm-bindgen $want is needed (have: ${have:-none}); run .ci/install.d/50-web.sh" >&2
  exit 1
fi
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
CARGO_PROFILE_RELEASE_OPT_LEVEL="${WASM_OPT_LEVEL:-z}" \
CARGO_PROFILE_RELEASE_LTO=true \
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
CARGO_PROFILE_RELEASE_DEBUG=0 \
  cargo build -q --target wasm32-unknown-unknown --release -p web --lib
rm -rf dist
mkdir -p dist
strip=(--remove-name-section --remove-producers-section)
[ "${WASM_NAMES:-0}" = 1 ] && strip=()
wasm-bindgen --target web --no-typescript "${strip[@]}" --out-dir dist --out-name inspector \
  "$target_dir/wasm32-unknown-unknown/release/web.wasm"
opt=e2e/node_modules/.bin/wasm-opt
if [ "${WASM_OPT:-0}" = 1 ]; then
  [ -x "$opt" ] || { echo "build.sh: WASM_OPT=1 but no $opt (npm ci in web/e2e)" >&2; exit 1; }
  "$opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals dist/inspector_bg.wasm -o dist/inspector_bg.wasm
fi
cp www/* dist/
raw=$(stat -c %s dist/inspector_bg.wasm)
gz=$(gzip -9 -c dist/inspector_bg.wasm | wc -c)
echo "build.sh: dist/inspector_bg.wasm is $raw bytes, $gz bytes gzip-compressed"
if [ -n "${WASM_GZIP_CEILING:-}" ] && [ "$gz" -gt "$WASM_GZIP_CEILING" ]; then
  echo "build.sh: the gzip size $gz is above the ceiling of $WASM_GZIP_CEILING bytes" >&2
  exit 1
fi
