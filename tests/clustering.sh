#!/bin/sh
# clustering.sh - the clustering layer (q, p, KL loss, both gradients, hard
# labels) against PyTorch autograd in float64 on the inputs written by
# tests/test_clustering --dump (tests/clustering_torch.py states the
# formulas and the tolerance).
. ./tests/testenv.sh

if ! "$PYTHON" -c 'import torch, numpy' > /dev/null 2>&1; then
  skip_all "PyTorch (python3-torch) not available to $PYTHON"
fi
check "C clustering layer dumps its inputs and results" "$top_builddir/tests/test_clustering" --dump "$WORK"
"$PYTHON" "$top_srcdir/tests/clustering_torch.py" "$WORK" > "$WORK/torch.out" 2>&1
rc=$?
while read -r status desc; do
  case $status in
    PASS) pass "$desc" ;;
    FAIL) fail "$desc" ;;
    *) echo "# $status $desc" ;;
  esac
done < "$WORK/torch.out"
: > "$WORK/log"
# 4 cases x 8 comparisons, but the float64 graph's loss is skipped where it cancels (case 2)
if [ "$(grep -c "^PASS" "$WORK/torch.out")" -ge 31 ] && [ "$rc" -eq 0 ]; then
  pass "PyTorch comparison ran to the end (exit $rc)"
else
  fail "PyTorch comparison ran to the end (exit $rc)"
fi
tap_done
