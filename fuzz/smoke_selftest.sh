#!/usr/bin/env bash
# Checks that .ci/test.d/60-fuzz-smoke.sh fails when fuzzing did not happen: it is run against a
# stand-in `cargo` (written to a temp dir, first on PATH) that makes `cargo fuzz list` fail,
# list nothing, list fewer targets than fuzz/Cargo.toml declares, or makes a target report
# "Done 0 runs" or no "Done" line at all; each must fail. A stand-in that runs every target
# must pass. Called by 60-fuzz-smoke.sh before the real runs (FUZZ_SMOKE_SELFTEST=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
targets=$(sed -n -E 's/^name = "([a-z0-9_]+)"$/\1/p' fuzz/Cargo.toml | grep -v '^kproto-fuzz$')
cat >"$bin/cargo" <<FAKE
#!/usr/bin/env bash
if [ "\$2 \$3" = "fuzz list" ]; then
  case "\$FAKE_MODE" in
    listfail) echo "error: no such command: fuzz" >&2; exit 101;;
    empty) exit 0;;
    fewer) echo "$(echo "$targets" | head -1)"; exit 0;;
    *) printf '%s\n' $(echo $targets);;
  esac
  exit 0
fi
if [ "\$2 \$3" = "fuzz run" ]; then
  case "\$FAKE_MODE" in
    zero) echo "Done 0 runs in 1 second(s)";;
    nodone) echo "INFO: Seed: 1";;
    *) echo "Done 1234 runs in 1 second(s)";;
  esac
  exit 0
fi
exit 3
FAKE
chmod +x "$bin/cargo"
for mode in listfail empty fewer zero nodone; do
  if FAKE_MODE=$mode FUZZ_SMOKE_SELFTEST=0 PATH="$bin:$PATH" bash .ci/test.d/60-fuzz-smoke.sh >/dev/null 2>&1; then
    echo "fuzz smoke selftest: the smoke step passed although fuzzing did not happen ($mode)" >&2
    exit 1
  fi
done
FAKE_MODE=ok FUZZ_SMOKE_SELFTEST=0 PATH="$bin:$PATH" bash .ci/test.d/60-fuzz-smoke.sh >/dev/null 2>&1 \
  || { echo "fuzz smoke selftest: the smoke step failed with every target running" >&2; exit 1; }
echo "fuzz smoke selftest: fails on a failing or empty list, a missing target, 0 runs, no Done line"
