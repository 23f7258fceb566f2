#!/bin/bash
# .ci/sanitizers.sh - the whole test suite once in an AddressSanitizer +
# UndefinedBehaviorSanitizer build (configure --enable-sanitizers).
#
#   bash .ci/sanitizers.sh [DIR]     # default DIR: build-asan/ in the source tree
#   SANITIZER_TESTS="tests/catalog.sh tests/synth.sh" bash .ci/sanitizers.sh   # a part of the suite
#
# The sources are copied to DIR/src and built there, so the normal in-tree
# build is left untouched (an in-tree build blocks VPATH builds of the same
# tree).  Every report fails the test that triggered it: UBSan aborts
# (-fno-sanitize-recover), ASan and LeakSanitizer exit non-zero.  The only
# suppressions are for Open MPI and its libraries (tests/lsan.supp).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build-asan}
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

rm -rf "$dir/src"
mkdir -p "$dir/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$top" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -C "$dir/src" -xf -
else
  # no git: the distribution's file list (run after a configure in the tree)
  (cd "$top" && make distdir distdir="$dir/dist" >/dev/null) && cp -a "$dir/dist/." "$dir/src/" && rm -rf "$dir/dist"
fi
cd "$dir/src"
autoreconf -fi >/dev/null 2>&1
./configure --enable-sanitizers --enable-werror CFLAGS="-O2 -g" ${PYTHON:+PYTHON=$PYTHON} >configure.out
make -j"$jobs" >build.out 2>&1 || { tail -n 40 build.out; exit 1; }

# Reports go to stderr, which the test logs keep.  detect_leaks is on for
# every dsc binary; lsan.supp names the Open MPI libraries whose start-up
# allocations are never freed.  Python processes started by the tests are not
# instrumented and need no preloading.
export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=0:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$dir/src/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
status=0
# SANITIZER_TESTS (a list of test scripts and programs) runs a part of the suite only.
if [ -n "${SANITIZER_TESTS:-}" ]; then
  make -j"$jobs" check TESTS="$SANITIZER_TESTS" 2>&1 | tee check.out || status=$?
else
  make -j"$jobs" check 2>&1 | tee check.out || status=$?
fi
# a sanitizer report that a test's own checks swallowed still fails the run
reports=$(grep -l "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" tests/*.log 2>/dev/null || true)
if [ -n "$reports" ]; then
  echo "sanitizer reports in:" $reports
  status=1
fi
[ "$status" = 0 ] || { [ -f test-suite.log ] && cat test-suite.log; }
exit "$status"
