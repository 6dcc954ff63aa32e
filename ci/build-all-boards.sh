#!/usr/bin/env bash
# Builds mnist-8 for every built-in board (slower than the CI suite, which
# builds one board per core family) and prints a line per board.
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p zant-cli || exit 2
zant=target/debug/zant
fail=0
for b in $($zant boards --json | python3 -c 'import json,sys; print(" ".join(b["name"] for b in json.load(sys.stdin)["boards"]))'); do
  if out=$($zant build --board "$b" examples/mnist-8.onnx -o "target/all-boards/$b" --json -q 2>&1); then
    flash=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["flash_bytes"], d["ram_bytes"])' "$out")
    printf '%-22s ok     flash/ram %s\n' "$b" "$flash"
  else
    printf '%-22s FAILED %s\n' "$b" "$(echo "$out" | head -1)"
    fail=1
  fi
done
exit $fail
