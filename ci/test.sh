#!/usr/bin/env bash
# The project's test command: checks and installs what the tests need, then
# runs formatting, lints and the whole test suite (host, conformance, QEMU).
#
#   ci/test.sh            everything
#   ci/test.sh --quick    skip fmt/clippy
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

step() { printf '\n== %s\n' "$*" >&2; }

step "prerequisites"
ci/setup.sh

step "ONNX backend node test cases"
ci/gen-node-tests.sh

step "kernel node cases match their generator (kernels/tests/data/onnx_node_cases.json)"
ci/check-kernel-cases.sh

step "MLPerf Tiny benchmark models (target/bench-models)"
ci/gen-bench-models.sh

if [ "$quick" = 0 ]; then
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy --all-targets -- -D warnings"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
fi

step "cargo test"
cargo test --workspace 2>&1 -- --skip onnx_backend_node_tests

step "ONNX backend node tests through the compiler (summary printed)"
cargo test -p zant-codegen --test onnx_node_tests 2>&1 -- --nocapture | grep -v '^  NEW '

step "QEMU regression suite (tests/qemu-suite.toml against ci/baselines/)"
cargo run --quiet -p zant-cli -- budget check tests/qemu-suite.toml -j 2

step "size budget of the examples (zant-budget.toml)"
cargo run --quiet -p zant-cli -- budget check
