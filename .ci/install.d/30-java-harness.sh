#!/usr/bin/env bash
# Java conformance harness (tests/java/conformance/): resolves kafka-clients (+ jackson-databind, which
# kafka-clients does not ship, + slf4j-nop) from Maven Central for each Kafka version we check against,
# and compiles Conformance.java against each. Idempotent: a version whose libs are present and were
# resolved from the current pom.xml is not resolved again; the harness is recompiled only when
# Conformance.java is newer than its compiled class (or the libs changed).
# Result, per version V:  $KPP_CACHE/java/kafka-clients-V/libs/*.jar   (runtime classpath)
#                         $KPP_CACHE/java/conformance-V/Conformance.class
# Run:  java -cp "$KPP_CACHE/java/conformance-V:$KPP_CACHE/java/kafka-clients-V/libs/*" Conformance
set -euo pipefail
cd "$(dirname "$0")/../.."
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
src=tests/java/conformance
versions="${KPP_KAFKA_VERSIONS:-4.4.0 3.9.1}"
start=$(date +%s)
summary=""
for v in $versions; do
  libs="$KPP_CACHE/java/kafka-clients-$v/libs"
  classes="$KPP_CACHE/java/conformance-$v"
  # The libs are current when their stamp matches this pom (so editing the pom re-resolves).
  want="$v $(sha256sum "$src/pom.xml" | cut -d' ' -f1)"
  if [ ! -f "$libs/kafka-clients-$v.jar" ] || [ "$(cat "$libs/.kpp-stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$libs.tmp"
    mkdir -p "$libs.tmp"
    # Debian's Maven prints stray ESC[0m sequences even with -q; harmless, filtered out here.
    mvn -B -q -f "$src/pom.xml" dependency:copy-dependencies \
      -Dkafka.version="$v" -DoutputDirectory="$libs.tmp" -DincludeScope=runtime \
      2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' | { grep -v '^[[:space:]]*$' || true; }
    [ -f "$libs.tmp/kafka-clients-$v.jar" ] || { echo "30-java-harness: failed to resolve kafka-clients $v" >&2; exit 1; }
    echo "$want" > "$libs.tmp/.kpp-stamp"
    rm -rf "$libs"
    mv "$libs.tmp" "$libs"
    did="resolved+"
  else
    did=""
  fi
  if [ ! -f "$classes/Conformance.class" ] || [ "$src/Conformance.java" -nt "$classes/Conformance.class" ] \
     || [ -n "$did" ]; then
    rm -rf "$classes"
    mkdir -p "$classes"
    javac -nowarn -encoding UTF-8 --release 17 -d "$classes" -cp "$libs/*" "$src/Conformance.java"
    did="${did}compiled"
  else
    did="${did:-up-to-date}"
  fi
  summary="$summary kafka-clients-$v: $did;"
done
# Maven may leave a target/ dir next to the pom; keep the work tree clean.
rm -rf "$src/target"
echo "30-java-harness:${summary} in $(( $(date +%s) - start )) s (cache: $KPP_CACHE/java)"
