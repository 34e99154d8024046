#!/usr/bin/env bash
# Compiles the record batch peer (tests/java/records/RecordsPeer.java: Kafka's MemoryRecordsBuilder
# and DefaultRecordBatch behind a stdin/stdout line protocol, for tests/tests/records_java.rs)
# against kafka-clients 4.4.0, which 30-java-harness.sh resolved. Idempotent: recompiles only when
# the source is newer.
# Result:  $KPP_CACHE/java/records-4.4.0/RecordsPeer.class
# Run:     java -cp "$KPP_CACHE/java/records-4.4.0:$KPP_CACHE/java/kafka-clients-4.4.0/libs/*" RecordsPeer
set -euo pipefail
cd "$(dirname "$0")/../.."
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
libs="$KPP_CACHE/java/kafka-clients-4.4.0/libs"
out="$KPP_CACHE/java/records-4.4.0"
src=tests/java/records/RecordsPeer.java
if [ ! -f "$out/RecordsPeer.class" ] || [ "$src" -nt "$out/RecordsPeer.class" ]; then
  rm -rf "$out" && mkdir -p "$out"
  javac -nowarn -encoding UTF-8 --release 17 -d "$out" -cp "$libs/*" "$src"
  echo "32-java-records: compiled"
fi
