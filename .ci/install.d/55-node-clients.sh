#!/usr/bin/env bash
# kafkajs (pinned in tests/clients/node/package-lock.json) for the client drivers
# (tests/src/clients/kafkajs.rs), installed with `npm ci`; Debian's Node.js and npm when the
# machine lacks them. Skips `npm ci` when the lock file is what was installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
  echo "55-node-clients: installed nodejs npm"
fi
dir=tests/clients/node
stamp=$dir/node_modules/.kpp-lock
if ! cmp -s "$dir/package-lock.json" "$stamp" 2>/dev/null; then
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
  echo "55-node-clients: npm ci ($(node -p 'require("./'"$dir"'/node_modules/kafkajs/package.json").version' 2>/dev/null || echo '?'))"
fi
