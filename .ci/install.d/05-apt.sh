#!/usr/bin/env bash
# Debian packages the tests and installers use, each installed only when missing:
# kcat (librdkafka's CLI, a real Kafka client) and librdkafka-dev, a JDK 17 and Maven (Kafka's Java tools, the
# conformance harness, the broker), python3's venv module (kafka-python's venv), curl and
# ca-certificates (Maven and pip over TLS).
set -euo pipefail
need=""
command -v kcat >/dev/null 2>&1 || need="$need kcat"
# librdkafka's headers: benches/producer/rdkafka_perf.c (the producer benchmark's librdkafka
# reference) is compiled against the same librdkafka kcat uses.
[ -f /usr/include/librdkafka/rdkafka.h ] || need="$need librdkafka-dev"
# A JDK (javac), not only a JRE; 17 is what Kafka 4.4.0's tools and our harnesses target.
if ! command -v javac >/dev/null 2>&1 || ! javac -version 2>&1 | grep -Eq 'javac (1[7-9]|2[0-9])'; then
  need="$need openjdk-17-jdk-headless"
fi
command -v mvn >/dev/null 2>&1 || need="$need maven"
command -v python3 >/dev/null 2>&1 || need="$need python3"
# `python3 -m venv` needs ensurepip, which Debian ships in python3-venv.
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need="$need python3-venv"; fi
[ -d /etc/ssl/certs ] && [ -n "$(ls -A /etc/ssl/certs 2>/dev/null)" ] || need="$need ca-certificates"
if [ -n "$need" ]; then
  command -v apt-get >/dev/null 2>&1 || { echo "05-apt: missing$need and no apt-get to install them" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends $need >/dev/null
  echo "05-apt: installed$need"
fi
