#!/usr/bin/env bash
# Debian packages the tests use: kcat (librdkafka's CLI, a real Kafka client), rsync.
set -euo pipefail
need=""
for p in kcat; do
  command -v "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q $need >/dev/null
  echo "05-apt: installed$need"
fi
