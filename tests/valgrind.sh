#!/bin/bash
# tests/valgrind.sh - run serial C test programs under valgrind's memcheck
# (make check-valgrind).  Fails when memcheck reports an error (invalid
# access, uninitialised value, bad free, a definite leak not suppressed in
# tests/valgrind.supp) or when the program itself fails a check.
#
#   bash tests/valgrind.sh tests/test_cf_time tests/test_checkpoint ...
#
# Logs: PROGRAM.valgrind.log next to each program.
set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind not found; apt-get install valgrind" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
supp="--suppressions=$srcdir/tests/valgrind.supp"
[ -f /usr/share/openmpi/openmpi-valgrind.supp ] && supp="$supp --suppressions=/usr/share/openmpi/openmpi-valgrind.supp"
status=0
for prog in "$@"; do
  log="$prog.valgrind.log"
  start=$(date +%s)
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --num-callers=40 --track-origins=yes $supp "./$prog" >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
  if [ "$rc" = 0 ] && [ "${errors:-1}" = 0 ]; then
    echo "valgrind $prog: ok (${secs}s)"
  else
    echo "valgrind $prog: FAILED (exit $rc, ${errors:-?} memcheck errors; ${secs}s); log $log"
    grep -m 1 -B 2 -A 30 "Invalid\|uninitialised\|definitely lost\|Mismatched\|free()" "$log"
    grep "^not ok" "$log"
    status=1
  fi
done
exit $status
