#!/usr/bin/env bash
# Checks, and where it can installs, what zant and its tests need:
# Rust targets for the built-in boards, rust-src, QEMU (Debian packages).
# Prints what it does; exits non-zero with a message when something is missing
# and cannot be installed here.
set -euo pipefail

need_targets=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabi thumbv7em-none-eabihf
              thumbv8m.main-none-eabihf riscv32imc-unknown-none-elf riscv32imac-unknown-none-elf)

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found; install Rust with rustup: https://rustup.rs" >&2
  exit 2
fi
if command -v rustup >/dev/null 2>&1; then
  installed="$(rustup target list --installed)"
  missing=()
  for t in "${need_targets[@]}"; do
    grep -qx "$t" <<<"$installed" || missing+=("$t")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: rustup target add ${missing[*]}" >&2
    rustup target add "${missing[@]}" >&2
  fi
  # llvm-size, to check zant's footprint figures against (what `cargo size` runs).
  if ! rustup component list --installed | grep -q '^llvm-tools'; then
    echo "setup: rustup component add llvm-tools" >&2
    rustup component add llvm-tools >&2
  fi
else
  echo "warning: rustup not found; make sure the targets ${need_targets[*]} are installed" >&2
fi

if ! command -v qemu-system-arm >/dev/null 2>&1 || ! command -v qemu-system-riscv32 >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: apt-get install qemu-system-arm qemu-system-misc" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends qemu-system-arm qemu-system-misc >&2
  else
    echo "error: QEMU is missing. Install it with: sudo apt-get install qemu-system-arm qemu-system-misc" >&2
    exit 2
  fi
fi
