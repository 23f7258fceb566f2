#!/bin/bash
# read_throughput.sh - reader throughput on a multi-decade data set, in the
# three encodings users have: legacy CDS (CDF-2, int16 packed), CDF-5 float32
# and the new CDS's compressed netCDF-4 (zlib level 1, shuffle; an instant and
# an accum file a year).
#
#   bash bench/read_throughput.sh [BUILD_DIR] [YEARS] [RUNS] [RANKS]
#
# Writes YEARS (default 1979-2020) of daily 41x41x7 data with dsc synth in
# each encoding, then times, in the same run and interleaved, `cat FILES >
# /dev/null` (the page-cache read rate of the same bytes), a serial
# netCDF4-python read of every variable of every file (unpacked and masked,
# as dsc does; the Python stack's reference), and the full parallel read
# (`dsc info`, which reads and unpacks every value to count the missing ones)
# on each rank count of RANKS (default "1 2 4"; more ranks than cores are
# oversubscribed).  Prints the median of RUNS runs of each, its rate, and the
# ratios to cat and to netCDF4-python.  PYTHON (default /usr/bin/python3)
# needs numpy and netCDF4; without them that column is left out.
set -euo pipefail
build=${1:-.}
years=${2:-1979-2020}
runs=${3:-5}
ranks=${4:-1 2 4}
dsc="$build/dsc"
python=${PYTHON:-/usr/bin/python3}
[ -x "$dsc" ] || { echo "read_throughput: $dsc not found; give the build directory" >&2; exit 2; }
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1
work=$(mktemp -d "${TMPDIR:-/tmp}/dsc-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mpi="mpirun --oversubscribe"
have_py=1
"$python" -c 'import netCDF4, numpy' 2> /dev/null || have_py=0

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# the Python stack's read: every field variable of every file, masked and unpacked into float
cat > "$work/read.py" <<'EOF'
import sys
import netCDF4
import numpy as np
total = 0
for path in sys.argv[1:]:
    with netCDF4.Dataset(path) as ds:
        for v in ds.variables.values():
            if v.ndim == 3:
                a = np.ma.filled(v[:].astype(np.float32), np.nan)
                total += a.size
print(total)
EOF

echo "read_throughput: years $years, $runs runs, ranks $ranks, $(getconf _NPROCESSORS_ONLN) cores"
for enc in legacy cdf5 newcds; do
  $mpi -n 2 "$dsc" synth -q -o "$work/$enc" --years "$years" --encoding "$enc"
  files=$(ls "$work/$enc"/era5_*.nc)
  bytes=$(cat $files | wc -c)
  : > "$work/cat.t"; : > "$work/py.t"
  for np in $ranks; do : > "$work/r$np.t"; done
  for _ in $(seq "$runs"); do
    t0=$(now); cat $files > /dev/null; t1=$(now); echo "$t1 - $t0" | bc >> "$work/cat.t"
    if [ $have_py = 1 ]; then
      t0=$(now); "$python" "$work/read.py" $files > /dev/null; t1=$(now); echo "$t1 - $t0" | bc >> "$work/py.t"
    fi
    for np in $ranks; do
      t0=$(now); $mpi -n "$np" "$dsc" info $files > /dev/null; t1=$(now); echo "$t1 - $t0" | bc >> "$work/r$np.t"
    done
  done
  c=$(median < "$work/cat.t")
  py=""
  [ $have_py = 1 ] && py=$(median < "$work/py.t")
  printf '%-7s files=%d bytes=%d  cat=%.3fs' "$enc" "$(echo $files | wc -w)" "$bytes" "$c"
  [ -n "$py" ] && printf '  netCDF4-python=%.3fs (%.1fx cat)' "$py" "$(echo "$py / $c" | bc -l)"
  echo
  r1=""
  for np in $ranks; do
    r=$(median < "$work/r$np.t")
    [ -z "$r1" ] && r1=$r
    printf '        dsc %d ranks=%.3fs (%.0f MB/s, %.1fx cat' "$np" "$r" "$(echo "$bytes / $r / 1000000" | bc -l)" \
      "$(echo "$r / $c" | bc -l)"
    [ -n "$py" ] && printf ', %.2fx netCDF4-python' "$(echo "$r / $py" | bc -l)"
    printf ', speedup over %d rank %.2f)\n' "${ranks%% *}" "$(echo "$r1 / $r" | bc -l)"
  done
done
