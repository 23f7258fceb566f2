#!/bin/sh
# blas.sh - dsc never runs slow generic BLAS kernels silently: with OpenBLAS
# forced onto its Prescott (SSE3) kernels on a CPU with AVX or better, rank 0
# warns once with the OPENBLAS_CORETYPE that fixes it; with that core set,
# no warning.  dsc bench names the BLAS, the core in use and the CPU's best
# instruction set.
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
tap_done
