#!/usr/bin/env bash
# A short smoke run of every fuzz target (FUZZ_SECONDS each, default 10). On a failure the
# panic, the crashing input's path and how to replay it are printed.
set -euo pipefail
cd fuzz
secs="${FUZZ_SECONDS:-10}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in $(cargo +nightly fuzz list); do
  echo "fuzz: $t for ${secs}s"
  if cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -1 "$log"
  else
    grep -E -A3 "panicked at|ERROR: libFuzzer|SUMMARY" "$log" | head -20 || true
    grep -E "Test unit written to|Base64:" "$log" || true
    echo "fuzz: $t failed; replay with: cd fuzz && cargo +nightly fuzz run $t <artifact>" >&2
    exit 1
  fi
done
