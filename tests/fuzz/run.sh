#!/bin/bash
# tests/fuzz/run.sh - build the libFuzzer targets of tests/fuzz/ and run each
# for a bounded time; fails on any crash, sanitizer report, leak or timeout.
#
#   bash tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Defaults: 45 s for each of catalog cf_time labels config checkpoint.
# Needs Debian's clang (libFuzzer, ASan, UBSan) and Open MPI's mpicc (used
# with OMPI_CC=clang); builds in build-fuzz/ (or $FUZZ_BUILD), which also
# keeps the grown corpora (build-fuzz/corpus/NAME) and any crash input
# (build-fuzz/crash-NAME-*).  The seeds are tests/fuzz/corpus/NAME/; a
# crash input, once fixed, goes there too (see doc/testing.md).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-45}
shift $(( $# > 0 ? 1 : 0 ))
targets=${*:-catalog cf_time labels config checkpoint}
build=${FUZZ_BUILD:-$top/build-fuzz}
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_CC=${FUZZ_CC:-clang} OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
command -v "$OMPI_CC" >/dev/null || { echo "fuzz: $OMPI_CC not found; apt-get install clang" >&2; exit 1; }
mpicc=${MPICC:-mpicc}

# ---- build: the library sources once (with coverage instrumentation), one
# binary per target
mkdir -p "$build/obj"
cat > "$build/config.h" <<'EOH'
#define PACKAGE_VERSION "fuzz"
#define HAVE_OPENBLAS_SET_NUM_THREADS 1
EOH
flags="-g -O1 -std=gnu11 -fopenmp -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -Wno-pass-failed"
cppflags="-I$build -I$top/include -I$top/tests $(pkg-config --cflags pnetcdf openblas 2>/dev/null)"
libs="$(pkg-config --libs pnetcdf openblas 2>/dev/null || echo -lpnetcdf -lopenblas) -lm"
sources=$(cd "$top" && ls src/*/*.c | grep -v '^src/cmd/')
# objects built with other flags are rebuilt
echo "$flags $cppflags" > "$build/flags.new"
cmp -s "$build/flags.new" "$build/flags" || rm -f "$build"/obj/*.o
mv "$build/flags.new" "$build/flags"
objects=""
pids=()
for s in $sources; do
  o="$build/obj/$(basename "$s" .c).o"
  objects="$objects $o"
  if [ ! -f "$o" ] || [ "$top/$s" -nt "$o" ]; then
    $mpicc $flags $cppflags -c "$top/$s" -o "$o" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}" || exit 1; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p" || exit 1; done
for t in $targets; do
  $mpicc $flags -fsanitize=fuzzer $cppflags "$top/tests/fuzz/fuzz_$t.c" $objects $libs -o "$build/fuzz_$t" || exit 1
done

# ---- run
# A hostile header can ask PnetCDF or dsc for gigabytes: allocations over
# 256 MiB fail (NULL, as malloc would on a smaller machine) instead of
# taking the time limit, so the error path after them is fuzzed too.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=256"
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for t in $targets; do
  mkdir -p "$build/corpus/$t"
  log="$build/fuzz_$t.log"
  # -close_fd_mask=3: the targets' error messages are not printed (libFuzzer
  # and the sanitizers still report on the original stderr).
  (cd "$build" && ./"fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
     -max_len=65536 -close_fd_mask=3 -print_final_stats=1 -artifact_prefix="$build/crash-$t-" \
     "corpus/$t" "$top/tests/fuzz/corpus/$t") >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1)
  corp=$(grep -o 'corp: [0-9]*' "$log" | tail -n 1)
  if [ "$rc" = 0 ]; then
    echo "fuzz $t: ok, ${runs:-?} runs in ${seconds}s, $cov, $ft, $corp"
  else
    echo "fuzz $t: FAILED (exit $rc) after ${runs:-?} runs; log $log, input $(ls "$build"/crash-"$t"-* 2>/dev/null | head -n 1)"
    grep -m 1 -A 25 "ERROR:\|runtime error\|==ERROR\|deadly signal" "$log"
    status=1
  fi
done
exit $status
