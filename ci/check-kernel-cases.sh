#!/usr/bin/env bash
# Checks that kernels/tests/data/onnx_node_cases.json is what
# kernels/tests/gen_onnx_cases.py writes. Runs when the installed onnx
# package is the version the file records (another version has other cases;
# then it says so and skips). Needs python3 with onnx (ci/gen-node-tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-python3}"
data=kernels/tests/data/onnx_node_cases.json
have="$("$py" -c 'import onnx; print(onnx.__version__)')"
want="$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["onnx"])' "$data")"
if [ "$have" != "$want" ]; then
  echo "ci: skipping the check of $data: onnx $have is installed, the file was written with onnx $want" >&2
  exit 0
fi
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
"$py" kernels/tests/gen_onnx_cases.py > "$tmp"
if ! cmp -s "$tmp" "$data"; then
  echo "error: $data is not what kernels/tests/gen_onnx_cases.py writes; run: $py kernels/tests/gen_onnx_cases.py > $data" >&2
  exit 1
fi
echo "ci: $data is up to date (onnx $have)" >&2
