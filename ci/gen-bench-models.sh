#!/usr/bin/env bash
# Writes the MLPerf Tiny benchmark models (ci/bench/make_models.py) into
# target/bench-models (or $1) and checks each against the sha256 recorded
# with its committed reference data (tests/data/ref/<model>/meta.json), so
# the QEMU regression suite and ci/bench.sh run the very models whose
# onnxruntime outputs are committed. The int8 twins (<model>-int8-{qdq,qop})
# come from onnxruntime's quantizer, so that is needed too (installed with
# pip when missing). Needs python3 with onnx and numpy (ci/gen-node-tests.sh
# installs onnx). Skips the work when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/bench-models}"
py="${PYTHON:-python3}"
if ! "$py" -c "import onnx, numpy" >/dev/null 2>&1; then
  echo "error: the benchmark models need python3 with onnx and numpy; run: $py -m pip install onnx numpy" >&2
  exit 2
fi
if ! "$py" -c "import onnxruntime" >/dev/null 2>&1; then
  echo "ci: installing the onnxruntime Python package for the int8 benchmark models (pip install onnxruntime)" >&2
  "$py" -m pip install --quiet onnxruntime >&2 || {
    echo "error: could not install onnxruntime with pip; run: $py -m pip install onnxruntime" >&2
    exit 2
  }
fi
stamp="$(sha256sum ci/bench/make_models.py | cut -d' ' -f1)"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
  exit 0
fi
mkdir -p "$out"
"$py" ci/bench/make_models.py "$out" --int8 2> >(grep -v '^WARNING' >&2)
for meta in tests/data/ref/*/meta.json; do
  want="$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("model_sha256", ""))' "$meta")"
  [ -n "$want" ] || continue
  name="$(basename "$(dirname "$meta")")"
  got="$(sha256sum "$out/$name.onnx" | cut -d' ' -f1)"
  if [ "$got" != "$want" ]; then
    echo "error: $out/$name.onnx has sha256 $got, but its reference outputs ($meta) were computed for $want;" >&2
    echo "       this numpy/onnx writes different weights: regenerate the references with" >&2
    echo "       $py ci/bench/make_models.py $out --int8 --refs tests/data/ref" >&2
    exit 1
  fi
done
echo "$stamp" > "$out/.stamp"
