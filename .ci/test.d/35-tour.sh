#!/usr/bin/env bash
# The README's run command, run as a newcomer would (it asserts what it shows: captured frames
# re-encode identically, batches validate, the crashed log recovers to at least its recovery
# point). Built by 30-cargo-test.sh already, so this costs seconds.
set -euo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo run --locked -q -p integration-tests --example tour >"$out"
tail -3 "$out"
grep -q "after a crash with a torn tail" "$out" || { echo "tour: did not reach its log step" >&2; exit 1; }
grep -q "after a clean shutdown the log directory holds" "$out" || { echo "tour: did not reach its last step" >&2; exit 1; }
