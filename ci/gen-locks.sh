#!/usr/bin/env bash
# Regenerates the lock files zant writes into firmware projects
# (templates/locks/<variant>.lock): cargo resolves each runtime variant's
# dependencies to their newest compatible versions. Review the diff, then
# run the firmware tests (`cargo test -p zant-firmware --test locks`, and a
# QEMU build: `cargo test -p zant-cli --test firmware`) before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p zant-firmware --test locks -- --ignored --exact regenerate_lock_files --nocapture
git diff --stat -- templates/locks
