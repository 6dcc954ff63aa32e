#!/usr/bin/env bash
# Rewrites the QEMU regression suite's baselines (ci/baselines/qemu-suite.json)
# on purpose, after a change that is meant to alter instruction counts or sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --quiet -p zant-cli -- budget update tests/qemu-suite.toml "$@"
