#!/usr/bin/env bash
# Compiles the metrics peer (tests/java/metrics/MetricsPeer.java: kafka-clients' own Metrics,
# Sensor and stats built as the producer's SenderMetrics/SelectorMetrics build them, replaying an
# event stream from stdin, for tests/tests/producer_metrics_java.rs) against kafka-clients 4.4.0,
# which 30-java-harness.sh resolved. Idempotent: recompiles only when the source is newer.
# Result:  $KPP_CACHE/java/metrics-4.4.0/MetricsPeer.class
# Run:     java -cp "$KPP_CACHE/java/metrics-4.4.0:$KPP_CACHE/java/kafka-clients-4.4.0/libs/*" MetricsPeer
set -euo pipefail
cd "$(dirname "$0")/../.."
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
libs="$KPP_CACHE/java/kafka-clients-4.4.0/libs"
out="$KPP_CACHE/java/metrics-4.4.0"
src=tests/java/metrics/MetricsPeer.java
if [ ! -f "$out/MetricsPeer.class" ] || [ "$src" -nt "$out/MetricsPeer.class" ]; then
  rm -rf "$out" && mkdir -p "$out"
  javac -nowarn -encoding UTF-8 --release 17 -d "$out" -cp "$libs/*" "$src"
  echo "34-java-metrics: compiled"
fi
