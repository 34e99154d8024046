#!/usr/bin/env bash
# One `cargo test` over the workspace's default members: unit, integration (real clients and
# Kafka's own serializers) and doc tests.
set -euo pipefail
cargo test --workspace --exclude kbench
