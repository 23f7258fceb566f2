#!/bin/bash
# scaling_model.sh - doc/scaling.md holds what bench/perf_model.py computes
# (every projection table and the check against this machine's 2-rank
# training), the model reproduces the paper network's parameter count, and
# its step model, fed with the measured terms, stays within 10% of the
# measured 2-rank rate.
. ./tests/testenv.sh
"$PYTHON" -c 'import argparse, math' 2> /dev/null || skip_all "$PYTHON is not usable"
M="$top_srcdir/bench/perf_model.py"
DOC="$top_srcdir/doc/scaling.md"
check "perf_model.py --markdown runs" sh -c "'$PYTHON' '$M' --markdown > '$WORK/model.md'"
check "perf_model.py --validate runs" sh -c "'$PYTHON' '$M' --validate > '$WORK/validate.md'"
# every table row the script prints is a line of doc/scaling.md
for f in model validate; do
  grep '^|' "$WORK/$f.md" | sort -u > "$WORK/$f.rows"
  n=$(wc -l < "$WORK/$f.rows")
  : > "$WORK/log"
  missing=$(grep -Fxv -f <(grep '^|' "$DOC") "$WORK/$f.rows" | tee "$WORK/log" | wc -l)
  if [ "$n" -gt 20 ] || { [ "$f" = validate ] && [ "$n" -gt 5 ]; }; then
    if [ "$missing" = 0 ]; then pass "doc/scaling.md holds all $n table rows of perf_model.py --$f"
    else fail "doc/scaling.md holds all $n table rows of perf_model.py --$f ($missing missing; regenerate)"; fi
  else
    fail "perf_model.py --$f printed only $n table rows"
  fi
done
check "the model's paper network on 41 x 41 x 7: 19,405,383 parameters and 5.005 GFLOP per training sample, as dsc counts them" \
  "$PYTHON" -c "
import sys; sys.path.insert(0, '$top_srcdir/bench'); import perf_model as m
n = m.network(41, 41)
sys.exit(0 if n['params'] == 19405383 and abs(n['train'] / 1e9 - 5.005) < 5e-4 else 1)"
check "the step model with every measured term is within 10% of the measured 2-rank rate" "$PYTHON" -c "
import sys
rows = [l for l in open('$WORK/validate.md') if l.startswith('| + the allreduce wait measured')]
pct = float(rows[0].split('|')[3].strip().rstrip('%'))
sys.exit(0 if abs(pct) <= 10 else 1)"
tap_done
