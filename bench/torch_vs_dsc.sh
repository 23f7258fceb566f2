#!/bin/sh
# torch_vs_dsc.sh - training and inference speed of dsc against its PyTorch
# twin (bench/torch_twin.py: the same network, float32, the same SGD momentum
# step), side by side on this machine at the same thread counts.
#
#   sh bench/torch_vs_dsc.sh [DSC_BINARY] [PYTHON]
#   RUNS=5 THREADS="1 2" ITERATIONS=10 BATCH=8 GRID=48x48 VARS=7 SEQ=1 sh bench/torch_vs_dsc.sh build/dsc
#
# For each thread count it alternates RUNS runs of `dsc bench` and of the
# twin (each reporting the median of ITERATIONS steps after 2 warm-up steps),
# so both see the same machine load, and prints the median over the runs and
# the ratio dsc / torch.  On a machine shared with other work, quote these
# medians and ratios, not single runs.  Not a test.
set -e
here=$(cd "$(dirname "$0")" && pwd)
DSC=${1:-./dsc}
PY=${2:-/usr/bin/python3}
RUNS=${RUNS:-5}
THREADS=${THREADS:-"1 2"}
ITERATIONS=${ITERATIONS:-10}
BATCH=${BATCH:-8}
GRID=${GRID:-48x48}
VARS=${VARS:-7}
SEQ=${SEQ:-1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/torch_vs_dsc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# value of KEY in FILE (key value lines)
key() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

common="--batch $BATCH --grid $GRID --vars $VARS --seq $SEQ --iterations $ITERATIONS --warmup 2"
echo "# dsc bench vs torch_twin.py: batch $BATCH, grid $GRID, V=$VARS, S=$SEQ, $RUNS alternating runs of $ITERATIONS steps"
echo "# $(uname -n) $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-7s %-6s %10s %10s %8s   %10s %10s %8s   %6s %6s\n" threads runs dsc_train torch_train ratio \
  dsc_infer torch_infer ratio sgemm frac
for t in $THREADS; do
  : > "$tmp/d_train"; : > "$tmp/t_train"; : > "$tmp/d_infer"; : > "$tmp/t_infer"; : > "$tmp/sgemm"; : > "$tmp/frac"
  : > "$tmp/r_train"; : > "$tmp/r_infer"
  r=0
  while [ "$r" -lt "$RUNS" ]; do
    OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$DSC" bench --threads "$t" $common > "$tmp/d"
    OMP_NUM_THREADS=$t "$PY" "$here/torch_twin.py" --threads "$t" $common > "$tmp/t"
    key "$tmp/d" train_samples_per_s >> "$tmp/d_train"
    key "$tmp/d" infer_samples_per_s >> "$tmp/d_infer"
    key "$tmp/d" sgemm_gflops >> "$tmp/sgemm"
    key "$tmp/d" train_peak_fraction >> "$tmp/frac"
    key "$tmp/t" train_samples_per_s >> "$tmp/t_train"
    key "$tmp/t" infer_samples_per_s >> "$tmp/t_infer"
    # ratio within each pair of runs: both saw about the same machine load
    echo "$(key "$tmp/d" train_samples_per_s) $(key "$tmp/t" train_samples_per_s)" | awk '{ print $1 / $2 }' >> "$tmp/r_train"
    echo "$(key "$tmp/d" infer_samples_per_s) $(key "$tmp/t" infer_samples_per_s)" | awk '{ print $1 / $2 }' >> "$tmp/r_infer"
    r=$((r + 1))
  done
  dt=$(median < "$tmp/d_train"); tt=$(median < "$tmp/t_train")
  di=$(median < "$tmp/d_infer"); ti=$(median < "$tmp/t_infer")
  sg=$(median < "$tmp/sgemm"); fr=$(median < "$tmp/frac")
  printf "%-7s %-6s %10.2f %10.2f %8.2f   %10.2f %10.2f %8.2f   %6.1f %6.2f\n" "$t" "$RUNS" "$dt" "$tt" \
    "$(echo "$dt $tt" | awk '{ print $1 / $2 }')" "$di" "$ti" "$(echo "$di $ti" | awk '{ print $1 / $2 }')" "$sg" "$fr"
  echo "#   train runs dsc: $(tr '\n' ' ' < "$tmp/d_train")torch: $(tr '\n' ' ' < "$tmp/t_train")"
  echo "#   median of the per-pair ratios: train $(median < "$tmp/r_train"), infer $(median < "$tmp/r_infer")"
done
echo "# samples/s (medians over the runs); ratio = dsc / torch of the medians; sgemm = GFLOP/s of cblas_sgemm"
echo "# n=1024 on the same threads; frac = nominal GFLOP/s of the dsc training step (5.0 GFLOP per sample"
echo "# counted as direct convolution) / sgemm: above 1 is possible, Winograd does fewer FLOPs than counted"
