#!/bin/sh
# model_torch.sh - the C network against its PyTorch twin (bench/torch_twin.py):
# reconstruction, latent, loss and every gradient tensor of the four variants
# of paper Table 3 (small widths, S = 1 and 2) and of the authors' full-size
# model (48 x 48 x 7, batch 1), and of the DTC baseline (bench/torch_twin_dtc.py),
# max relative error 1e-4 per tensor.
. ./tests/testenv.sh

if ! "$PYTHON" -c 'import torch, numpy' > /dev/null 2>&1; then
  skip_all "PyTorch (python3-torch) not importable by $PYTHON"
fi

mkdir -p "$WORK/dump"
check "C model writes forward, loss and gradients" ./tests/test_model_torch "$WORK/dump" reference
"$PYTHON" "$top_srcdir/tests/model_torch.py" "$WORK/dump" > "$WORK/py.out" 2>&1
rc=$?
: > "$WORK/log"
nchecks=0
while IFS= read -r line; do
  case "$line" in
    "ok - "*) pass "${line#ok - }"; nchecks=$((nchecks + 1)) ;;
    "not ok - "*) fail "${line#not ok - }"; nchecks=$((nchecks + 1)) ;;
    *) echo "# $line" ;;
  esac
done < "$WORK/py.out"
if [ "$rc" -ne 0 ] || [ "$nchecks" -eq 0 ]; then
  fail "model_torch.py exited with status $rc after $nchecks comparisons"
fi
tap_done
