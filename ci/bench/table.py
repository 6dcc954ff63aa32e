#!/usr/bin/env python3
"""Turns the `zant bench --json` results of ci/bench.sh into a markdown table.

    python3 ci/bench/table.py RESULTS_DIR > table.md

RESULTS_DIR holds <model>@<board>.json (zant bench --json) and
<model>.inspect.json (zant inspect --json) files. Z-Ant's mnist-8 figures
come from ../shared/benchmarks/PEERS.md (measured with the same kind of
QEMU instruction counter, outputs checked).
"""

import json
import re
import os
import sys

# Z-Ant (ReleaseSmall, hard float), mnist-8, instructions per inference (PEERS.md).
ZANT_MNIST = {
    "qemu-mps2-an386": 16_509_898,
    "qemu-mps2-an500": 16_403_456,
    "qemu-mps3-an547": 15_618_936,
}
# Boards whose flash is smaller than the biggest model's weights.
FLASH = {"qemu-mps3-an547": 512 * 1024}
MODELS = ["mnist-8", "ds-cnn", "resnet-8", "mobilenet-v1-vww", "fc-autoencoder", "beer"] + [
    f"{m}-int8-{fmt}"
    for m in ["ds-cnn", "resnet-8", "mobilenet-v1-vww", "fc-autoencoder"]
    for fmt in ["qdq", "qop"]
]
BOARDS = ["qemu-mps2-an386", "qemu-mps2-an500", "qemu-mps3-an547", "qemu-riscv32-virt"]
CORES = {
    "qemu-mps2-an386": "Cortex-M4F",
    "qemu-mps2-an500": "Cortex-M7",
    "qemu-mps3-an547": "Cortex-M55",
    "qemu-riscv32-virt": "RV32IMAC",
}


def n(v):
    return f"{v:,}"


def main():
    d = sys.argv[1]
    rows = []
    rows.append(
        "| model | board | MACs | instructions | per MAC | flash B | RAM used B (static + stack) "
        "| arena B | arena bound B | outputs (max abs err) | Z-Ant instructions |"
    )
    rows.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    models = [m for m in MODELS if os.path.exists(os.path.join(d, f"{m}.inspect.json"))]
    for m in models:
        insp = json.load(open(os.path.join(d, f"{m}.inspect.json")))
        for b in BOARDS:
            p = os.path.join(d, f"{m}@{b}.json")
            if not os.path.exists(p):
                continue
            try:
                r = json.load(open(p))
            except ValueError:
                r = {}
            if r.get("instructions_per_inference") is None:
                # A failed run prints `{"error": …}` (or nothing, before that contract).
                failed = r == {} or "error" in r
                msg = (r.get("error") or {}).get("message", "")
                # zant's flash check before the build ends "…: N B too many".
                over = re.search(r"flash region (\S+) has [0-9]+ B: ([0-9]+) B too many", msg)
                # … or, found by the linker, "overflowed by N bytes".
                lld = re.search(r"in region '(\S+)': overflowed by ([0-9]+) bytes", msg)
                if over or lld:
                    g = over or lld
                    why = f"does not fit ({g.group(1)} {int(g.group(2)):,} B short)"
                elif failed and insp["weight_bytes"] > FLASH.get(b, 1 << 62):
                    why = "does not fit"
                else:
                    why = "failed"
                rows.append(f"| {m} | {b} ({CORES[b]}) | {n(insp['macs'])} | — | — | — | — | — | — | {why} | |")
                continue
            instr = r["instructions_per_inference"]
            macs = r["macs"]
            ram_used = r["ram_bytes"] - r["stack_bytes"] + r["stack_peak_bytes"]
            ok = "match" if r["outputs_match"] else "MISMATCH"
            zant = ZANT_MNIST.get(b) if m == "mnist-8" else None
            zcol = f"{n(zant)} ({zant / macs:.1f}/MAC)" if zant else ""
            rows.append(
                f"| {m} | {b} ({CORES[b]}) | {n(macs)} | {n(instr)} | {instr / macs:.2f} "
                f"| {n(r['flash_bytes'])} | {n(ram_used)} | {n(r['arena_bytes'])} "
                f"| {n(insp['activation_lower_bound_bytes'])} | {ok} ({r['max_abs_error']:.1e}) | {zcol} |"
            )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
