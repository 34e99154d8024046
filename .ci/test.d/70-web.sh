#!/usr/bin/env bash
# The browser inspector (web/): builds the wasm bundle into web/dist/ and checks its gzip size
# against a ceiling, runs the wasm API's tests in headless Chromium (wasm-bindgen-test), writes
# the end-to-end fixtures (a klog partition, a corrupted segment, a frame stream, a written
# capture), records a tcpdump capture of kafka-python talking to a real Kafka broker, and runs
# the Playwright tests of the page against them all (screenshots in web/e2e/artifacts/).
set -euo pipefail
cd "$(dirname "$0")/../.."
# The bundle's gzip size was 324 557 bytes when this ceiling (+3%) was set (420 491 before the
# generated parsers read through kproto's error-keeping reader, crate::rd); the goal is 400 KB.
WASM_GZIP_CEILING="${WASM_GZIP_CEILING:-334294}" bash web/build.sh
(
  cd web
  CHROMEDRIVER=/usr/bin/chromedriver \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test -p web --target wasm32-unknown-unknown --test wasm
)
cargo run -q -p web --example fixtures -- web/e2e/fixtures
cargo run -q -p web --example capture -- web/e2e/fixtures
(cd web/e2e && node --test)
