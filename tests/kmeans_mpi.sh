#!/bin/sh
# kmeans_mpi.sh - tests/test_kmeans on 2 and 3 ranks: the fits on 2 and 3
# ranks are compared with the fit on one rank, errors are agreed by every
# rank.
. ./tests/testenv.sh

for np in 2 3; do
  # spelled out: check runs its command under timeout, which cannot call
  # the shell function run_np
  launcher=$(echo "$TESTMPIRUN" | sed "s/NP/$np/")
  # shellcheck disable=SC2086
  check "k-means checks on $np ranks ran" $launcher "$top_builddir/tests/test_kmeans"
  if grep -q '^not ok' "$WORK/log" || ! grep -q '^1\.\.[1-9]' "$WORK/log"; then
    fail "k-means checks on $np ranks: $(grep -c '^not ok' "$WORK/log") failed"
    grep '^not ok' "$WORK/log" | sed 's/^/# /'
  else
    pass "k-means checks on $np ranks: $(grep -c '^ok' "$WORK/log") passed"
  fi
done
tap_done
