#!/bin/sh
# layers_torch.sh - every network layer, forward and gradients, against its
# PyTorch twin on identical inputs and weights (tests/test_layers_torch.py
# states the twins and the tolerance).
. ./tests/testenv.sh

if ! "$PYTHON" -c 'import torch, numpy' > /dev/null 2>&1; then
  skip_all "PyTorch (python3-torch) not available to $PYTHON"
fi
check "C layers run and dump inputs, weights, outputs and gradients" "$top_builddir/tests/layers_torch_dump" "$WORK"
"$PYTHON" "$top_srcdir/tests/test_layers_torch.py" "$WORK" > "$WORK/torch.out" 2>&1
rc=$?
while read -r status desc; do
  case $status in
    PASS) pass "$desc" ;;
    FAIL) fail "$desc" ;;
    *) echo "# $status $desc" ;;
  esac
done < "$WORK/torch.out"
: > "$WORK/log"
[ "$(grep -c "^PASS" "$WORK/torch.out")" -ge 93 ] && [ "$rc" -eq 0 ] \
  && pass "PyTorch comparison ran to the end (exit $rc)" || fail "PyTorch comparison ran to the end (exit $rc)"
tap_done
