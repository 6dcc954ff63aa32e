#!/usr/bin/env bash
# The benchmark (a table, not a test): mnist-8, the int8 detector beer and
# the four MLPerf Tiny models (ci/bench/make_models.py) on the QEMU boards, each built, run under
# QEMU with exact instruction counts, and checked against its onnxruntime
# reference outputs (tests/data/ref/) by `zant bench --json`. Writes the
# markdown table to stdout and to target/bench/table-<opt>.md.
#
#   ci/bench.sh                      every model on every board, --opt speed
#   ci/bench.sh --opt size           the firmware built for size
#   MODELS="mnist-8 ds-cnn" BOARDS="qemu-mps2-an386" ci/bench.sh
#   ZANT=target/debug/zant ci/bench.sh   an already built zant
#
# Boards run one after another (each firmware build uses every core).
set -euo pipefail
cd "$(dirname "$0")/.."
opt=speed
if [ "${1:-}" = "--opt" ]; then
  opt="${2:?--opt needs speed or size}"
fi
int8="ds-cnn-int8-qdq ds-cnn-int8-qop resnet-8-int8-qdq resnet-8-int8-qop mobilenet-v1-vww-int8-qdq mobilenet-v1-vww-int8-qop fc-autoencoder-int8-qdq fc-autoencoder-int8-qop"
models="${MODELS:-mnist-8 ds-cnn resnet-8 mobilenet-v1-vww fc-autoencoder beer $int8}"
boards="${BOARDS:-qemu-mps2-an386 qemu-mps2-an500 qemu-mps3-an547 qemu-riscv32-virt}"
py="${PYTHON:-python3}"

ci/gen-bench-models.sh
# The figures come from the firmware (always a release build); the zant
# binary's own profile does not change them. ZANT=path skips this build.
if [ -z "${ZANT:-}" ]; then
  cargo build --release --quiet -p zant-cli
fi
zant="${ZANT:-target/release/zant}"
res="target/bench/results-$opt"
rm -rf "$res"
mkdir -p "$res"

model_path() {
  case "$1" in
    mnist-8) echo examples/mnist-8.onnx ;;
    beer) echo examples/beer.onnx ;;
    *) echo "target/bench-models/$1.onnx" ;;
  esac
}

# Output tolerance: 1e-4 for float models; one quantization step (the scale
# of the DequantizeLinear that makes the float output) for the int8 twins.
tolerance() {
  case "$1" in
    *-int8-*) "$py" - "$(model_path "$1")" <<'PY'
import sys, onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
out = m.graph.output[0].name
dq = [n for n in m.graph.node if n.op_type == "DequantizeLinear" and out in n.output][0]
s = [numpy_helper.to_array(t) for t in m.graph.initializer if t.name == dq.input[1]][0]
print(f"{float(s) * 1.001:.6g}")
PY
    ;;
    *) echo 1e-4 ;;
  esac
}

for m in $models; do
  "$zant" inspect --json "$(model_path "$m")" > "$res/$m.inspect.json"
done
for b in $boards; do
  for m in $models; do
    echo "bench: $m on $b (--opt $opt)" >&2
    start=$(date +%s)
    # A failing run (exit 1) still prints its JSON; keep going.
    "$zant" bench --board "$b" "$(model_path "$m")" --opt "$opt" \
      --input "tests/data/ref/$m/input.bin" --expect "tests/data/ref/$m/output.bin" \
      --tolerance "$(tolerance "$m")" \
      -o "target/bench/fw/$m-$b-$opt" --force --timeout 600 --json -q \
      > "$res/$m@$b.json" || echo "bench: $m on $b failed (exit $?)" >&2
    echo "bench: $m on $b took $(( $(date +%s) - start )) s" >&2
  done
done
"$py" ci/bench/table.py "$res" | tee "target/bench/table-$opt.md"
