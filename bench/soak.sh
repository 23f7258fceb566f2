#!/bin/bash
# soak.sh - a long dsc train under mpirun, watched for leaks and slow-downs:
# every INTERVAL seconds the resident memory of every rank (VmRSS of
# /proc/PID/status) and the throughput (steps/s, from the step lines of
# --verbose) are sampled; at the end SIGUSR1 stops the run (checkpoint,
# exit status 3) and a least-squares line through the samples after the
# warm-up tells whether memory and throughput stayed flat.
#
#   bash bench/soak.sh [--minutes M] [--ranks N] [--interval S] [-o OUTDIR] [-- TRAIN OPTIONS]
#
# Defaults: 30 minutes, 2 ranks, a sample every 10 s, OUTDIR soak-out.  The
# data are one dsc synth year on a 32x32 grid (written to OUTDIR/data once);
# the network is reduced (--conv 8,8,16,16,32 --lstm 32,32 --latent 16)
# unless TRAIN OPTIONS say otherwise.  Writes OUTDIR/samples.tsv and
# OUTDIR/summary.txt.  "flat": the fitted change over the measured span is
# within 2% of the mean for memory and 10% for throughput (other jobs on the
# machine move throughput).  Environment: DSC (./dsc).  Not run by make check.
set -euo pipefail
minutes=30 ranks=2 interval=10 out=soak-out
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "soak.sh: unknown option '$1'; see the head of bench/soak.sh" >&2; exit 1 ;;
  esac
done
DSC=${DSC:-./dsc}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
mkdir -p "$out"
data="$out/data"
[ -f "$data/truth.csv" ] || "$DSC" synth -q -o "$data" --years 2001-2001 --grid 32x32 --regimes 5
rm -rf "$out/run"
log="$out/train.log"
# enough joint steps for any duration: the run is stopped by the signal
mpirun --oversubscribe -n "$ranks" "$DSC" train -v -k 5 --conv 8,8,16,16,32 --lstm 32,32 --latent 16 --batch 16 \
  --pretrain-epochs 2 --max-iter 100000000 --tol 0 --kmeans-init 3 "$@" -o "$out/run" "$data"/era5_*.nc > "$log" 2>&1 &
job=$!
trap 'kill -KILL $job 2> /dev/null || true' EXIT
samples="$out/samples.tsv"
echo -e "seconds\tsteps\tsteps_per_s\trss_kb_total\trss_kb_per_rank" > "$samples"
t0=$(date +%s.%N)
end=$(awk -v a="$t0" -v m="$minutes" 'BEGIN {printf "%.3f", a + m * 60}')
prev_steps=0 prev_t=$t0
while kill -0 $job 2> /dev/null; do
  sleep "$interval"
  now=$(date +%s.%N)
  steps=$(grep -c ' step [0-9]*:' "$log" || true)
  rss="" total=0
  for p in $(ps -o pid= --ppid $job); do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2> /dev/null || echo 0)
    rss="$rss${rss:+,}$kb"; total=$((total + kb))
  done
  awk -v now="$now" -v t0="$t0" -v pt="$prev_t" -v s="$steps" -v ps="$prev_steps" -v tot="$total" -v rss="$rss" \
    'BEGIN {printf "%.1f\t%d\t%.3f\t%d\t%s\n", now - t0, s, (s - ps) / (now - pt), tot, rss}' >> "$samples"
  prev_steps=$steps prev_t=$now
  awk -v now="$now" -v end="$end" 'BEGIN {exit !(now >= end)}' && break
done
status=0
if kill -0 $job 2> /dev/null; then
  kill -USR1 $job
  wait $job || status=$?
else
  wait $job || status=$?
  echo "soak.sh: dsc train ended early (status $status); see $log" >&2
fi
trap - EXIT
# Least squares over the samples after the warm-up (the first fifth, which
# holds the pre-training and the k-means initialisation).
awk -F'\t' -v status="$status" -v minutes="$minutes" -v ranks="$ranks" '
  NR > 1 { n++; t[n] = $1; r[n] = $3; m[n] = $4 }
  function fit(y, lim, name, unit,    i, a, sx, sy, sxx, sxy, k, b, mean, span, rel) {
    a = int(n / 5) + 1; k = 0; sx = sy = sxx = sxy = 0
    for (i = a; i <= n; i++) { k++; sx += t[i]; sy += y[i]; sxx += t[i] * t[i]; sxy += t[i] * y[i] }
    if (k < 3) { printf "%s: too few samples\n", name; return }
    b = (k * sxy - sx * sy) / (k * sxx - sx * sx); mean = sy / k; span = t[n] - t[a]
    rel = mean != 0 ? b * span / mean : 0
    printf "%s: mean %.4g %s, slope %.4g %s per minute, change over %.0f s %+.2f%% of the mean: %s\n",
           name, mean, unit, b * 60, unit, span, 100 * rel, (rel < lim && rel > -lim) ? "flat" : "NOT flat"
  }
  END {
    printf "soak: %d ranks, %s minutes, %d samples (first %d are warm-up), dsc train exit status %s (3: stopped by the signal)\n",
           ranks, minutes, n, int(n / 5), status
    fit(m, 0.02, "resident memory, all ranks", "kB")
    fit(r, 0.10, "throughput", "steps/s")
  }' "$samples" | tee "$out/summary.txt"
