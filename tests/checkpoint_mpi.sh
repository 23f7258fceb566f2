#!/bin/sh
# checkpoint_mpi.sh - tests/test_checkpoint on 2 and 3 ranks: identical
# initial weights on every rank, rank 0 writes, every rank resumes from the
# broadcast contents, bad files rejected on all ranks without a hang.
. ./tests/testenv.sh

for np in 2 3; do
  # spelled out: check runs its command under timeout, which cannot call
  # the shell function run_np
  launcher=$(echo "$TESTMPIRUN" | sed "s/NP/$np/")
  # shellcheck disable=SC2086
  check "checkpoint round trip and rejections on $np ranks" $launcher ./tests/test_checkpoint
  if grep -q '^not ok' "$WORK/log" || ! grep -q '^1\.\.[1-9]' "$WORK/log"; then
    fail "checkpoint checks on $np ranks: $(grep -c '^not ok' "$WORK/log") failed"
  else
    pass "checkpoint checks on $np ranks: $(grep -c '^ok' "$WORK/log") passed"
  fi
done
tap_done
