#!/usr/bin/env bash
# Fails loudly when a stripped binary is over its budget in Cross/size-budget.
#   bash Cross/check-size.sh ARCH BINARY
set -euo pipefail
ARCH="$1"; BINARY="$2"
BUDGET_FILE="$(dirname "${BASH_SOURCE[0]}")/size-budget"
budget="$(awk -v a="$ARCH" '$1 == a { print $2 }' "$BUDGET_FILE")"
size="$(stat -c %s "$BINARY")"
[[ -n "$budget" ]] || { echo "check-size: no budget for $ARCH in $BUDGET_FILE" >&2; exit 1; }
if (( size > budget )); then
  echo "check-size: FOOTPRINT BUDGET EXCEEDED: $BINARY is $size bytes; the $ARCH budget is $budget (Cross/size-budget)" >&2
  exit 1
fi
echo "footprint: $ARCH $size bytes of $budget budget ($(( size * 100 / budget ))%)"
