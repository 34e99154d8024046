#!/usr/bin/env bash
# Runs the conformance harness built by .ci/install.d/30-java-harness.sh against one kafka-clients
# version: JSON lines on stdin, one result line per input line on stdout (see README.md).
# Usage: tests/java/conformance/run.sh <kafka-version, e.g. 4.4.0 or 3.9.1>
set -euo pipefail
v="${1:?usage: run.sh <kafka-version>}"
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
classes="$KPP_CACHE/java/conformance-$v"
libs="$KPP_CACHE/java/kafka-clients-$v/libs"
[ -f "$classes/Conformance.class" ] || { echo "run.sh: $classes not built; run .ci/install.d/30-java-harness.sh" >&2; exit 2; }
# -XX:TieredStopAtLevel=1 / -Xshare:auto keep start-up short; the work per line is tiny.
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss4m -cp "$classes:$libs/*" Conformance
