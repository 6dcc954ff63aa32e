#!/usr/bin/env bash
# Writes the ONNX backend node test cases into target/onnx-node-tests (or $1).
# Needs python3; installs the `onnx` wheel with pip when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/onnx-node-tests}"
py="${PYTHON:-python3}"
if ! command -v "$py" >/dev/null 2>&1; then
  echo "error: python3 is needed to generate the ONNX node tests; install it (Debian: apt-get install python3 python3-pip)" >&2
  exit 2
fi
if ! "$py" -c "import onnx" >/dev/null 2>&1; then
  echo "ci: installing the onnx Python package (pip install onnx)" >&2
  "$py" -m pip install --quiet onnx >&2 || {
    echo "error: could not install onnx with pip; run: $py -m pip install onnx" >&2
    exit 2
  }
fi
version="$("$py" -c 'import onnx; print(onnx.__version__)')"
if [ -f "$out/.onnx-version" ] && [ "$(cat "$out/.onnx-version")" = "$version" ]; then
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
"$py" ci/gen-onnx-node-tests.py "$out" >&2
echo "$version" > "$out/.onnx-version"
