#!/usr/bin/env bash
# One `cargo test` over the workspace's default members: unit, integration (real clients and
# Kafka's own serializers) and doc tests. `--locked`: Cargo.lock is what we test.
set -euo pipefail
cargo test --locked --workspace --exclude kbench
