#!/bin/bash
# read_throughput.sh - reader throughput on a multi-decade data set.
#
#   bash bench/read_throughput.sh [BUILD_DIR] [YEARS] [RUNS]
#
# Writes YEARS (default 1979-2020) of daily 41x41x7 data with dsc synth
# (legacy int16 and CDF-5 float32), then times, in the same run and
# interleaved, `cat FILES > /dev/null` (the page-cache read rate of the same
# bytes) and the full parallel read (`dsc info`, which reads and unpacks every
# value to count the missing ones) on 1 and 2 ranks.  Prints the median of RUNS
# runs of each and the ratio to cat.
set -euo pipefail
build=${1:-.}
years=${2:-1979-2020}
runs=${3:-5}
dsc="$build/dsc"
[ -x "$dsc" ] || { echo "read_throughput: $dsc not found; give the build directory" >&2; exit 2; }
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1
work=$(mktemp -d "${TMPDIR:-/tmp}/dsc-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mpi="mpirun --oversubscribe"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for enc in legacy cdf5; do
  $mpi -n 2 "$dsc" synth -o "$work/$enc" --years "$years" --encoding "$enc" > /dev/null
  bytes=$(cat "$work/$enc"/era5_*.nc | wc -c)
  : > "$work/cat.t"; : > "$work/r1.t"; : > "$work/r2.t"
  for _ in $(seq "$runs"); do
    t0=$(now); cat "$work/$enc"/era5_*.nc > /dev/null; t1=$(now); echo "$t1 - $t0" | bc >> "$work/cat.t"
    t0=$(now); $mpi -n 1 "$dsc" info "$work/$enc"/era5_*.nc > /dev/null; t1=$(now); echo "$t1 - $t0" | bc >> "$work/r1.t"
    t0=$(now); $mpi -n 2 "$dsc" info "$work/$enc"/era5_*.nc > /dev/null; t1=$(now); echo "$t1 - $t0" | bc >> "$work/r2.t"
  done
  c=$(median < "$work/cat.t"); r1=$(median < "$work/r1.t"); r2=$(median < "$work/r2.t")
  nfiles=$(ls "$work/$enc"/era5_*.nc | wc -l)
  printf '%-7s files=%d bytes=%d  cat=%.3fs  dsc_1rank=%.3fs (%.0f MB/s, %.1fx cat)  dsc_2ranks=%.3fs (%.0f MB/s, %.1fx cat)  speedup_1to2=%.2f\n' \
    "$enc" "$nfiles" "$bytes" "$c" "$r1" "$(echo "$bytes / $r1 / 1000000" | bc -l)" "$(echo "$r1 / $c" | bc -l)" \
    "$r2" "$(echo "$bytes / $r2 / 1000000" | bc -l)" "$(echo "$r2 / $c" | bc -l)" "$(echo "$r1 / $r2" | bc -l)"
done
