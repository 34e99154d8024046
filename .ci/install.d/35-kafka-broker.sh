#!/usr/bin/env bash
# A real Apache Kafka 4.4.0 broker and Kafka's own Java tools from Maven Central (no Docker, no
# tarball), for the klog on-disk compatibility tests (tests/tests/klog_kafka_*.rs,
# cli/tests/klog_kafka_klog_reads_kafka.rs), `kpp dump` against DumpLogSegments (cli/tests/dump.rs) and the
# Kafka-written partition fixture (tests/src/kafka_dirs.rs): resolves kafka_2.13 + kafka-tools
# (connect-runtime excluded) + kafka-clients + log4j2 through the throwaway pom
# tests/java/kafka/pom.xml, and compiles tests/java/kafka/*.java against them. Idempotent: the
# libs are resolved again only when the pom changed (stamp = the pom's sha256); the clients are
# recompiled only when a source is newer than the build or the libs changed.
# Result:  $KPP_CACHE/kafka-4.4.0/libs/*.jar                    (broker + tools runtime classpath)
#          $KPP_CACHE/kafka-4.4.0/client/{KlogKafkaClient,KlogPlanProducer}.class
# Run e.g. java -cp "$KPP_CACHE/kafka-4.4.0/libs/*" org.apache.kafka.tools.DumpLogSegments --files F
set -euo pipefail
cd "$(dirname "$0")/../.."
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
v=4.4.0
src=tests/java/kafka
home="$KPP_CACHE/kafka-$v"
libs="$home/libs"
classes="$home/client"
start=$(date +%s)
want="$v $(sha256sum "$src/pom.xml" | cut -d' ' -f1)"
did=""
if [ ! -f "$libs/kafka_2.13-$v.jar" ] || [ "$(cat "$libs/.kpp-stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$libs.tmp"
  mkdir -p "$libs.tmp"
  # Debian's Maven prints stray ESC[0m sequences even with -q; harmless, filtered out here.
  mvn -B -q -f "$src/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs.tmp" -DincludeScope=runtime \
    2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' | { grep -v '^[[:space:]]*$' || true; }
  for jar in "kafka_2.13-$v.jar" "kafka-tools-$v.jar" "kafka-clients-$v.jar"; do
    [ -f "$libs.tmp/$jar" ] || { echo "35-kafka-broker: failed to resolve $jar" >&2; exit 1; }
  done
  ls "$libs.tmp"/log4j-core-*.jar >/dev/null 2>&1 \
    || { echo "35-kafka-broker: failed to resolve log4j-core" >&2; exit 1; }
  echo "$want" > "$libs.tmp/.kpp-stamp"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
  did="resolved $(ls "$libs"/*.jar | wc -l) jars+"
fi
stale=""
for java in "$src"/*.java; do
  class="$classes/$(basename "$java" .java).class"
  if [ ! -f "$class" ] || [ "$java" -nt "$class" ]; then stale=1; fi
done
if [ -n "$stale" ] || [ -n "$did" ]; then
  rm -rf "$classes.tmp"
  mkdir -p "$classes.tmp"
  javac -nowarn -encoding UTF-8 --release 17 -d "$classes.tmp" -cp "$libs/*" "$src"/*.java
  rm -rf "$classes"
  mv "$classes.tmp" "$classes"
  did="${did}compiled"
fi
# Maven may leave a target/ dir next to the pom; keep the work tree clean.
rm -rf "$src/target"
echo "35-kafka-broker: kafka-$v: ${did:-up-to-date} in $(( $(date +%s) - start )) s (cache: $home)"
