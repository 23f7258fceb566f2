#!/bin/bash
# tests/valgrind.sh - run serial C test programs under valgrind's memcheck
# (make check-valgrind).  Fails when memcheck reports an error (invalid
# access, uninitialised value, bad free, a definite leak not suppressed in
# tests/valgrind.supp) or when the program itself fails a check.
#
#   bash tests/valgrind.sh tests/test_cf_time tests/test_checkpoint ...
#
# The programs run side by side, as many at a time as there are cores
# (VALGRIND_JOBS overrides).  Logs: PROGRAM.valgrind.log next to each program.
set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind not found; apt-get install valgrind" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
supp="--suppressions=$srcdir/tests/valgrind.supp"
[ -f /usr/share/openmpi/openmpi-valgrind.supp ] && supp="$supp --suppressions=/usr/share/openmpi/openmpi-valgrind.supp"
export supp
jobs=${VALGRIND_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}

# one program: its log, and a one-line verdict in PROGRAM.valgrind.result
run_one() {
  local prog=$1 log="$1.valgrind.log" start rc secs errors
  start=$(date +%s)
  # shellcheck disable=SC2086
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --num-callers=40 --track-origins=yes $supp "./$prog" >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
  if [ "$rc" = 0 ] && [ "${errors:-1}" = 0 ]; then
    echo "ok (${secs}s)" > "$prog.valgrind.result"
  else
    echo "FAILED (exit $rc, ${errors:-?} memcheck errors; ${secs}s); log $log" > "$prog.valgrind.result"
  fi
}
export -f run_one

for prog in "$@"; do rm -f "$prog.valgrind.result"; done
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}

status=0
for prog in "$@"; do
  verdict=$(cat "$prog.valgrind.result" 2>/dev/null || echo "FAILED (no verdict)")
  echo "valgrind $prog: $verdict"
  rm -f "$prog.valgrind.result"
  case $verdict in
    ok*) ;;
    *) log="$prog.valgrind.log"
       grep -m 1 -B 2 -A 30 "Invalid\|uninitialised\|definitely lost\|Mismatched\|free()" "$log"
       grep "^not ok" "$log"
       status=1 ;;
  esac
done
exit $status
