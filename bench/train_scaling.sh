#!/bin/bash
# train_scaling.sh - weak scaling of dsc train from 1 to N ranks at the same
# per-rank batch, one thread per rank: samples/s of the joint training
# steps and the share of the step spent waiting in the gradient allreduce,
# from metrics.json (timings: joint_compute, joint_allreduce_wait), and the
# peak resident memory of a rank (GNU time).  Medians over REPEAT runs.
#
#   bash bench/train_scaling.sh OUTDIR [MAXRANKS] [REPEAT]
#
# Environment: DSC (./dsc), PER_RANK_BATCH (8), STEPS (20 joint steps),
# MODEL (network options; default the paper's widths), YEARS (2001-2003),
# GRID (41x41).  Not run by make check.
set -euo pipefail
out=${1:?usage: train_scaling.sh OUTDIR [MAXRANKS] [REPEAT]}
maxp=${2:-2}
repeat=${3:-3}
DSC=${DSC:-./dsc}
B=${PER_RANK_BATCH:-8}
STEPS=${STEPS:-20}
MODEL=${MODEL:-}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
mkdir -p "$out"
data="$out/data"
[ -f "$data/truth.csv" ] || mpirun --oversubscribe -n 2 "$DSC" synth -q -o "$data" --years "${YEARS:-2001-2003}" --grid "${GRID:-41x41}"
echo "ranks,repeat,batch,samples_per_s,compute_s,allreduce_wait_s,allreduce_share,peak_rss_mb" > "$out/scaling.csv"
for p in $(seq 1 "$maxp"); do
  for r in $(seq 1 "$repeat"); do
    d="$out/run-$p-$r"
    # shellcheck disable=SC2086
    /usr/bin/time -f "%M" -o "$d.rss" mpirun --oversubscribe -n "$p" "$DSC" train -q -k 7 $MODEL --batch $((B * p)) \
      --pretrain-epochs 0 --max-iter "$STEPS" --update-interval 100000 --kmeans-init 1 --force -o "$d" "$data"/era5_*.nc
    /usr/bin/python3 - "$d/metrics.json" "$p" "$r" $((B * p)) "$STEPS" "$(cat "$d.rss")" >> "$out/scaling.csv" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); p, r, b, steps, rss = sys.argv[2:7]
t = m["timings"]; c = t["joint_compute"]["max"]; w = t["joint_allreduce_wait"]["max"]
print(f"{p},{r},{b},{int(b) * int(steps) / (c + w):.3f},{c:.3f},{w:.3f},{w / (c + w):.4f},{int(rss) / 1024:.0f}")
PY
  done
done
/usr/bin/python3 - "$out/scaling.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
base = None
print("| ranks | global batch | samples/s (median) | efficiency | allreduce wait share | peak RSS of the largest process, MB |")
print("|---|---|---|---|---|---|")
for p in sorted({int(r["ranks"]) for r in rows}):
    rs = [r for r in rows if int(r["ranks"]) == p]
    sps = statistics.median(float(r["samples_per_s"]) for r in rs)
    share = statistics.median(float(r["allreduce_share"]) for r in rs)
    base = base or sps
    print(f"| {p} | {rs[0]['batch']} | {sps:.2f} | {sps / base / p:.3f} | {100 * share:.1f}% | {rs[0]['peak_rss_mb']} |")
PY
