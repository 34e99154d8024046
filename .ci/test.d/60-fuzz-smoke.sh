#!/usr/bin/env bash
# A short smoke run of every fuzz target (FUZZ_SECONDS each, default 10).
set -euo pipefail
cd fuzz
secs="${FUZZ_SECONDS:-10}"
for t in $(cargo +nightly fuzz list); do
  echo "fuzz: $t for ${secs}s"
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | tail -3
done
