#!/bin/sh
# blas.sh - dsc never runs slow generic BLAS kernels silently: with OpenBLAS
# forced onto its Prescott (SSE3) kernels on a CPU with AVX or better, rank 0
# warns once with the OPENBLAS_CORETYPE that fixes it; with that core set,
# no warning.  dsc bench names the BLAS, the core in use and the CPU's best
# instruction set.  A kernel that computes wrong products (an injected fault,
# DSC_FAULT_BLAS_WRONG) makes dsc start over on a weaker one with one warning,
# or stop with one error when none is right; a faster kernel is advised only
# when it passes the same check.
. ./tests/testenv.sh

small="--iterations 1 --warmup 0 --batch 1 --grid 16x16 --vars 2 --threads 1"
nwarn() { grep -c '^dsc: warning:.*OPENBLAS_CORETYPE' "$1"; }
value() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$2"; }

"$DSC" bench $small > "$WORK/plain.out" 2> "$WORK/plain.err" || { cat "$WORK/plain.err" > "$WORK/log"; fail "dsc bench runs"; tap_done; }
core=$(value blas_core "$WORK/plain.out")
isa=$(value cpu_isa "$WORK/plain.out")
blas=$(value blas "$WORK/plain.out")
cp "$WORK/plain.out" "$WORK/log"
if [ -n "$blas" ] && [ -n "$core" ] && [ -n "$isa" ]; then pass "dsc bench names the BLAS ($blas), its core ($core) and the CPU ($isa)"
else fail "dsc bench names the BLAS, its core and the CPU"; fi
[ "$core" = unknown ] && { skip "forced core" "the BLAS is not OpenBLAS"; tap_done; }
[ "$isa" = SSE ] && { skip "forced core" "this CPU has no AVX: no kernel is weaker than Prescott"; tap_done; }

OPENBLAS_CORETYPE=PRESCOTT "$DSC" bench $small > "$WORK/p.out" 2> "$WORK/p.err"
cat "$WORK/p.out" "$WORK/p.err" > "$WORK/log"
if [ "$(nwarn "$WORK/p.err")" -eq 1 ] && grep -q '^dsc: warning:.*Prescott.*export OPENBLAS_CORETYPE=[A-Z]' "$WORK/p.err"; then
  pass "OPENBLAS_CORETYPE=PRESCOTT on $isa: one warning naming the fix"
else
  fail "OPENBLAS_CORETYPE=PRESCOTT on $isa: one warning naming the fix"
fi
check "dsc bench reports the Prescott core as weaker" sh -c "grep -qx 'blas_core Prescott' '$WORK/p.out' && grep -qx 'blas_core_weaker yes' '$WORK/p.out'"
fix=$(sed -n 's/.*export OPENBLAS_CORETYPE=\([A-Z0-9_]*\).*/\1/p' "$WORK/p.err" | head -1)

OPENBLAS_CORETYPE=$fix "$DSC" bench $small > "$WORK/f.out" 2> "$WORK/f.err"
cat "$WORK/f.out" "$WORK/f.err" > "$WORK/log"
if [ -n "$fix" ] && [ "$(nwarn "$WORK/f.err")" -eq 0 ] && grep -qx 'blas_core_weaker no' "$WORK/f.out"; then
  pass "OPENBLAS_CORETYPE=$fix (the fix): no warning"
else
  fail "OPENBLAS_CORETYPE=${fix:-?} (the fix): no warning"
fi

OPENBLAS_CORETYPE=PRESCOTT "$DSC" bench $small --json > "$WORK/j.out" 2> /dev/null
cp "$WORK/j.out" "$WORK/log"
check "--json names the core and the CPU" "$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["blas_core"] == "Prescott" and d["blas_core_weaker"] is True and d["cpu_isa"] == sys.argv[2] else 1)
' "$WORK/j.out" "$isa"

# rank 0 alone warns (here before the error that bench takes one rank)
OPENBLAS_CORETYPE=PRESCOTT run_np 2 -x OPENBLAS_CORETYPE "$DSC" bench $small > "$WORK/np2.out" 2> "$WORK/np2.err"
cat "$WORK/np2.out" "$WORK/np2.err" > "$WORK/log"
if [ "$(nwarn "$WORK/np2.err")" -eq 1 ]; then pass "2 ranks: one warning"; else fail "2 ranks: one warning"; fi
OPENBLAS_CORETYPE=PRESCOTT "$DSC" eval --help > "$WORK/h.out" 2> "$WORK/h.err"
cat "$WORK/h.err" > "$WORK/log"
if [ "$(nwarn "$WORK/h.err")" -eq 0 ]; then pass "--help: no warning"; else fail "--help: no warning"; fi

# ---- the self-check of sgemm ------------------------------------------------------
"$DSC" synth -q --years 2001 --grid 8x8 --vars t2m,sp -o "$WORK/data" > "$WORK/log" 2>&1
kmeans() { "$DSC" kmeans -q -k 3 --seed 2 --force -o "$1" "$WORK/data/era5_2001.nc"; }
kmeans "$WORK/km_right" > "$WORK/right.err" 2>&1
check "the kernels in use ($core) pass the self-check: no word about it" sh -c "! grep -q 'wrong matrix' '$WORK/right.err'"
check "dsc bench: blas_check passed" grep -qx "blas_check passed" "$WORK/plain.out"
nwrong() { grep -c '^dsc: warning:.*wrong matrix products' "$1"; }
if [ "$core" = Prescott ]; then
  skip "fallback to a weaker kernel" "the kernels in use ($core) are the weakest"
else
  DSC_FAULT_BLAS_WRONG=$core "$DSC" bench $small > "$WORK/w.out" 2> "$WORK/w.err"; st=$?
  cat "$WORK/w.out" "$WORK/w.err" > "$WORK/log"
  new=$(value blas_core "$WORK/w.out")
  if [ $st -eq 0 ] && [ "$(nwrong "$WORK/w.err")" -eq 1 ] && [ -n "$new" ] && [ "$new" != "$core" ] &&
     grep -q "^dsc: warning: OpenBLAS's $core kernels compute wrong matrix products.*runs on its $new kernels" "$WORK/w.err"; then
    pass "$core made wrong: dsc bench starts over on $new, with one warning naming both"
    check "dsc bench says the check passed after $core failed it" grep -qx "blas_check passed after the $core kernels failed it" "$WORK/w.out"
  else
    fail "$core made wrong: dsc bench starts over on a weaker kernel, with one warning naming both"
  fi
  DSC_FAULT_BLAS_WRONG=$core run_np 2 -x DSC_FAULT_BLAS_WRONG "$DSC" kmeans -k 3 --seed 2 --force -o "$WORK/km_fallback" \
    "$WORK/data/era5_2001.nc" > "$WORK/w2.out" 2> "$WORK/w2.err"; st=$?
  cat "$WORK/w2.out" "$WORK/w2.err" > "$WORK/log"
  if [ $st -eq 0 ] && [ "$(nwrong "$WORK/w2.err")" -eq 1 ] && [ -s "$WORK/km_fallback/labels.csv" ]; then
    pass "2 ranks, $core made wrong: dsc kmeans runs on the weaker kernel, one warning"
  else
    fail "2 ranks, $core made wrong: dsc kmeans runs on the weaker kernel, one warning"
  fi
fi
expect_error "every kernel wrong: one error naming them, exit 1" "the BLAS computes wrong matrix products on this CPU.*dsc cannot run on it" \
  env DSC_FAULT_BLAS_WRONG=all "$DSC" kmeans -k 3 --force -o "$WORK/km_wrong" "$WORK/data/era5_2001.nc"
expect_error "2 ranks, every kernel wrong: one error, all ranks stop" "the BLAS computes wrong matrix products" \
  run_np 2 -x DSC_FAULT_BLAS_WRONG=all "$DSC" kmeans -k 3 --force -o "$WORK/km_wrong2" "$WORK/data/era5_2001.nc"
check "nothing written by the stopped runs" sh -c "! ls '$WORK/km_wrong' '$WORK/km_wrong2' 2> /dev/null | grep -q ."
if [ -n "$fix" ]; then
  OPENBLAS_CORETYPE=PRESCOTT DSC_FAULT_BLAS_WRONG=$fix "$DSC" bench $small > "$WORK/a.out" 2> "$WORK/a.err"
  cat "$WORK/a.out" "$WORK/a.err" > "$WORK/log"
  if [ "$(nwarn "$WORK/a.err")" -eq 0 ] && [ "$(nwrong "$WORK/a.err")" -eq 0 ]; then
    pass "the advised kernel ($fix) made wrong: not advised"
  else
    fail "the advised kernel ($fix) made wrong: not advised"
  fi
fi
tap_done
