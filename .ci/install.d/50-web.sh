#!/usr/bin/env bash
# The browser inspector (web/): Debian's Chromium + its WebDriver (wasm-bindgen-test, Playwright),
# tcpdump (captures for the inspector's tests), wasm-bindgen-cli at the exact version of the
# `wasm-bindgen` crate web/ pins, and web/e2e's npm packages (playwright-core, binaryen).
# Each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
[ -x /usr/bin/chromedriver ] || need="$need chromium-driver"
command -v tcpdump >/dev/null 2>&1 || need="$need tcpdump"
if [ -n "$need" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends $need >/dev/null
  echo "50-web: installed$need"
fi
want=0.2.130
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $want" ] ||
   [ "$(wasm-bindgen-test-runner --version 2>/dev/null || true)" != "wasm-bindgen-test-runner $want" ]; then
  # Not --locked: its lock file pins a webpki-roots release the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$want"
fi
if [ -f web/e2e/package-lock.json ]; then
  # npm ci wipes and reinstalls node_modules; skip it when the lock file is what was installed.
  stamp=web/e2e/node_modules/.kpp-lock
  if ! cmp -s web/e2e/package-lock.json "$stamp" 2>/dev/null; then
    (cd web/e2e && npm ci --no-audit --no-fund --loglevel=error)
    cp web/e2e/package-lock.json "$stamp"
  fi
fi
