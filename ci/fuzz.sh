#!/usr/bin/env bash
# Seeded mutation fuzzing at scale: ONNX models, board files and budget files
# (truncations, bit flips, byte insertions/deletions, TOML value swaps)
# through zant's library entry points, in-process. Zero panics and zero hangs
# (a watchdog limits each input) or it fails. ci/test.sh runs the same test
# with 3,000 inputs.
#
#   ci/fuzz.sh                 100,000 inputs, the default seed
#   ci/fuzz.sh 500000 42       count and seed
#
# A panicking input is kept under target/tmp/fuzz/panic-<n>.{onnx,toml}.
set -euo pipefail
cd "$(dirname "$0")/.."
export ZANT_FUZZ_COUNT="${1:-100000}"
[ -n "${2:-}" ] && export ZANT_FUZZ_SEED="$2"
cargo test -p zant-cli --test fuzz -- --nocapture 2>&1 | grep -E '^fuzz:|HANG|panic|test result'
