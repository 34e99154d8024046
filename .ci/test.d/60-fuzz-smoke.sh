#!/usr/bin/env bash
# A short smoke run of every fuzz target (FUZZ_SECONDS each, default 10). Fails when
# `cargo fuzz list` fails or lists nothing, when it lists another number of targets than
# fuzz/Cargo.toml declares ([[bin]] sections), and when a target did not run: libFuzzer's
# closing "Done N runs in S second(s)" must be there with N > 0 for every one. On a failure the
# panic, the crashing input's path and how to replay it are printed (an input running over 60 s
# is a failure: a hang). fuzz/smoke_selftest.sh
# first checks these checks against a stand-in cargo.
set -euo pipefail
if [ "${FUZZ_SMOKE_SELFTEST:-1}" != 0 ]; then
  bash "$(dirname "$0")/../../fuzz/smoke_selftest.sh"
fi
cd "$(dirname "$0")/../../fuzz"
secs="${FUZZ_SECONDS:-10}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { echo "fuzz: $*" >&2; exit 1; }

if ! list=$(cargo +nightly fuzz list 2>"$log"); then
  cat "$log" >&2
  fail "\`cargo +nightly fuzz list\` failed (is cargo-fuzz installed for the nightly toolchain?)"
fi
read -r -a targets <<<"$(echo $list)"
declared=$(grep -c '^\[\[bin\]\]' Cargo.toml || true)
[ "${#targets[@]}" -gt 0 ] || fail "\`cargo fuzz list\` listed no targets"
[ "${#targets[@]}" -eq "$declared" ] \
  || fail "\`cargo fuzz list\` listed ${#targets[@]} targets (${targets[*]}), fuzz/Cargo.toml declares $declared"

ran=0
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${secs}s"
  if cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -timeout=60 -rss_limit_mb=2048 >"$log" 2>&1; then
    runs=$(sed -n -E 's/^Done ([0-9]+) runs in .*/\1/p' "$log" | tail -1)
    if [ -z "$runs" ] || [ "$runs" -eq 0 ]; then
      tail -20 "$log" >&2
      fail "$t did not run (no \"Done N runs\" with N > 0 from libFuzzer)"
    fi
    echo "fuzz: $t: $(tail -1 "$log")"
    ran=$((ran + 1))
  else
    grep -E -A3 "panicked at|ERROR: libFuzzer|SUMMARY" "$log" | head -20 || true
    grep -E "Test unit written to|Base64:" "$log" || true
    echo "fuzz: $t failed; replay with: cd fuzz && cargo +nightly fuzz run $t <artifact>" >&2
    exit 1
  fi
done
[ "$ran" -eq "$declared" ] || fail "ran $ran of $declared targets"
echo "fuzz: all $ran targets ran"
