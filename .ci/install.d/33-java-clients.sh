#!/usr/bin/env bash
# Compiles the Java client driver (tests/java/clients/JavaClients.java: KafkaProducer,
# KafkaConsumer without a group, Admin) against kafka-clients 4.4.0, which 30-java-harness.sh
# resolved. Idempotent: recompiles only when the source is newer than its class (or the libs
# were resolved again since).
# Result:  $KPP_CACHE/java/clients-4.4.0/JavaClients.class
# Run:     java -cp "$KPP_CACHE/java/clients-4.4.0:$KPP_CACHE/java/kafka-clients-4.4.0/libs/*" JavaClients
set -euo pipefail
cd "$(dirname "$0")/../.."
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
libs="$KPP_CACHE/java/kafka-clients-4.4.0/libs"
out="$KPP_CACHE/java/clients-4.4.0"
src=tests/java/clients/JavaClients.java
[ -f "$libs/kafka-clients-4.4.0.jar" ] || { echo "33-java-clients: $libs lacks kafka-clients (30-java-harness.sh resolves it)" >&2; exit 1; }
if [ ! -f "$out/JavaClients.class" ] || [ "$src" -nt "$out/JavaClients.class" ] \
   || [ "$libs/.kpp-stamp" -nt "$out/JavaClients.class" ]; then
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  javac -nowarn -encoding UTF-8 --release 17 -d "$out.tmp" -cp "$libs/*" "$src"
  rm -rf "$out" && mv "$out.tmp" "$out"
  echo "33-java-clients: compiled"
fi
