#!/usr/bin/env bash
# Size/speed budget gate for any CI system: checks zant's prerequisites, runs
# `zant budget check`, writes the Markdown summary to budget.md, and exits
# 0 (within budget), 1 (over budget) or 2 (usage or build error).
#
#   ci/budget-check.sh [BUDGET_FILE]     (default: zant-budget.toml)
set -uo pipefail
file="${1:-zant-budget.toml}"
if ! command -v zant >/dev/null 2>&1; then
  echo "error: zant is not installed (cargo install --path cli, from a zant checkout)" >&2
  exit 2
fi
zant doctor >&2 || echo "warning: zant doctor reported problems (see above)" >&2
zant budget check "$file" --format markdown > budget.md
status=$?
cat budget.md
exit $status
