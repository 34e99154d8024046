#!/usr/bin/env bash
# The generated message code must be what the generator makes from the pinned Kafka schemas.
set -euo pipefail
if [ -d ../shared/kafka-message-spec ] && [ -d ../shared/kafka-message-spec-3.9 ]; then
  cargo run -q -p kproto-codegen -- --check
else
  echo "codegen: ../shared not present; cannot check generated code" >&2
  exit 1
fi
