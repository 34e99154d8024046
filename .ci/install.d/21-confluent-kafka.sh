#!/usr/bin/env bash
# confluent-kafka (Confluent's Python client; its manylinux wheel bundles librdkafka, so no
# system librdkafka is needed) in the venv 20-python.sh made, for the client drivers
# (tests/src/clients/confluent_kafka.rs). Skips itself when the venv already has the pinned
# version (its own stamp, so kafka-python's stamp in 20-python.sh stays as it is).
set -euo pipefail
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
venv="$KPP_CACHE/venv"
want="confluent-kafka==2.16.1"
stamp="$venv/.kpp-confluent-kafka"
[ -x "$venv/bin/python" ] || { echo "21-confluent-kafka: no venv at $venv (20-python.sh makes it)" >&2; exit 1; }
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: "$want"
"$venv/bin/python" -c 'import confluent_kafka as c; print("21-confluent-kafka: confluent-kafka", c.__version__, "librdkafka", c.libversion()[0])'
echo "$want" > "$stamp"
