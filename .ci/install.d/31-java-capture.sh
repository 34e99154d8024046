#!/usr/bin/env bash
# Compiles the Java capture client (tests/java/capture) against kafka-clients 4.4.0, which
# 30-java-harness.sh resolved. Idempotent: recompiles only when the source is newer.
set -euo pipefail
cd "$(dirname "$0")/../.."
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
libs="$KPP_CACHE/java/kafka-clients-4.4.0/libs"
out="$KPP_CACHE/java/capture-4.4.0"
src=tests/java/capture/CaptureClient.java
if [ ! -f "$out/CaptureClient.class" ] || [ "$src" -nt "$out/CaptureClient.class" ]; then
  rm -rf "$out" && mkdir -p "$out"
  javac -nowarn -encoding UTF-8 --release 17 -d "$out" -cp "$libs/*" "$src"
  echo "31-java-capture: compiled"
fi
