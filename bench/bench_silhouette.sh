#!/bin/sh
# bench_silhouette.sh - exact Euclidean silhouette of 40 years of daily
# fields (14,600 x 11,767 float32: 41 x 41 grid, 7 variables) with dsc's
# distributed pass (tests/test_metrics driver) on 1 and 2 ranks, side by side
# with scikit-learn's silhouette_score on the same matrix in the same run.
#
#   cd BUILD && sh /path/to/bench/bench_silhouette.sh [YEARS]   (default 1981-2020)
#
# Prints seconds, speed relative to scikit-learn, the speed-up from 1 to 2
# ranks and the peak memory (VmHWM) per rank.  Needs about 3 GB of memory.
set -e
YEARS=${1:-1981-2020}
BUILD=$(pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
MPIRUN=${MPIRUN:-mpirun --oversubscribe}
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
W=$(mktemp -d "${TMPDIR:-/tmp}/dsc-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

OMP_NUM_THREADS=1 $MPIRUN -n 2 "$BUILD/dsc" synth -q -o "$W/data" --years "$YEARS"
"$PYTHON" "$SRC/bench/bench_silhouette.py" prepare "$W/data" "$W/x"
rm -rf "$W/data"

value() { sed -n "s/^$1=//p" "$2"; }
run_dsc() { # name ranks threads (Open MPI binds a rank to one core unless told otherwise)
  bind=""
  [ "$3" -gt 1 ] && bind="--bind-to none"
  env OMP_NUM_THREADS=$3 OPENBLAS_NUM_THREADS=1 $MPIRUN -n $2 $bind -x OMP_NUM_THREADS -x OPENBLAS_NUM_THREADS \
    "$BUILD/tests/test_metrics" "$W/x.bin" "$W/x.labels" > "$W/$1.out"
}
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 "$PYTHON" "$SRC/bench/bench_silhouette.py" sklearn "$W/x" > "$W/sklearn.out"
run_dsc r1t1 1 1
run_dsc r1t2 1 2
run_dsc r2t1 2 1

T=$(od -An -t d8 -N 8 "$W/x.bin" | tr -d ' ')
D=$(od -An -t d8 -j 8 -N 8 "$W/x.bin" | tr -d ' ')
SK=$(value seconds "$W/sklearn.out")
R1=$(value pairwise_seconds "$W/r1t1.out")
echo "exact Euclidean silhouette, $T x $D float32, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "load average before: $LOAD"
printf '%-34s %10s %12s %12s %12s %14s %14s\n' "run" "seconds" "CPU s/rank" "silhouette" "vs sklearn" "vs 1 rank" "VmHWM/rank MB"
printf '%-34s %10.2f %12s %12.6f %12s %14s %14d\n' "scikit-learn 1.2 (2 BLAS threads)" "$SK" "-" "$(value silhouette "$W/sklearn.out")" "1.00x" "-" \
  $(($(value peak_memory_kb "$W/sklearn.out") / 1024))
for r in r1t1:"dsc 1 rank x 1 thread" r1t2:"dsc 1 rank x 2 threads" r2t1:"dsc 2 ranks x 1 thread"; do
  f="$W/${r%%:*}.out"
  s=$(value pairwise_seconds "$f")
  printf '%-34s %10.2f %12.2f %12.6f %11.2fx %13.2fx %14d\n' "${r#*:}" "$s" "$(value pairwise_cpu_seconds_per_rank "$f")" "$(value silhouette "$f")" \
    "$(echo "$SK / $s" | bc -l)" "$(echo "$R1 / $s" | bc -l)" $(($(value peak_memory_kb_per_rank "$f") / 1024))
done
echo "(dsc seconds: the pairwise pass, which also gives the cosine silhouette and the inter-cluster matrix)"
