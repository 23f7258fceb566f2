#!/bin/bash
# quality.sh - DSC against k-means on dsc synth data (planted regimes): ARI
# and NMI against truth.csv, silhouette and Davies-Bouldin on the raw and on
# the anomaly matrix, over several seeds; one CSV row per run and a
# markdown summary (mean, sd, best).
#
#   bash bench/quality.sh OUTDIR [SEEDS] [RANKS]
#
# Environment: DSC (default ./dsc), GRID (default 24x24), YEARS (2001-2003),
# TRAIN_ARGS (network and schedule of dsc train), STEPS ("1 3 5": sequence
# windows to try), EXTRA ("": more dsc train variants, each "name:options"
# separated by ';').  Not run by make check: minutes per run on 2 cores.
set -euo pipefail
out=${1:?usage: quality.sh OUTDIR [SEEDS] [RANKS]}
seeds=${2:-5}
np=${3:-2}
DSC=${DSC:-./dsc}
GRID=${GRID:-24x24}
YEARS=${YEARS:-2001-2003}
STEPS=${STEPS-"1 3 5"}
TRAIN_ARGS=${TRAIN_ARGS:-"--conv 16,16,32,64,128 --lstm 128,128 --latent 32 --batch 32 --pretrain-epochs 20 --max-iter 300"}
export OMP_NUM_THREADS=1
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
run="mpirun --oversubscribe -n $np"
mkdir -p "$out"
data="$out/data"
[ -f "$data/truth.csv" ] || $run "$DSC" synth -q -o "$data" --years "$YEARS" --grid "$GRID"
files=$(ls "$data"/era5_*.nc)
csv="$out/quality.csv"
echo "method,seed,ari,nmi,silhouette,davies_bouldin,silhouette_anom,davies_bouldin_anom,seconds" > "$csv"

score() { # METHOD SEED DIR SECONDS: metrics of DIR/labels.csv on the raw and the anomaly matrix
  $run "$DSC" eval -l "$3/labels.csv" --truth "$data/truth.csv" -o "$3/raw.json" $files > /dev/null
  $run "$DSC" eval --anomalies -l "$3/labels.csv" -o "$3/anom.json" $files > /dev/null
  /usr/bin/python3 - "$1" "$2" "$3" "$4" >> "$csv" <<'PY'
import json, sys
m, s, d, t = sys.argv[1:5]
r = json.load(open(f"{d}/raw.json")); a = json.load(open(f"{d}/anom.json"))
f = lambda v: "" if v is None else f"{v:.4f}"
print(",".join([m, s, f(r["ari"]), f(r["nmi"]), f(r["silhouette"]), f(r["davies_bouldin"]),
                f(a["silhouette"]), f(a["davies_bouldin"]), t]))
PY
}

timed() { # DIR COMMAND...: runs, prints seconds
  local d=$1; shift
  local t0; t0=$(date +%s.%N)
  "$@" > "$d.log" 2>&1
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

for seed in $(seq 1 "$seeds"); do
  d="$out/kmeans-raw-$seed"; t=$(timed "$d" $run "$DSC" kmeans -q -k 7 --seed "$seed" --force -o "$d" $files); score kmeans-raw "$seed" "$d" "$t"
  d="$out/kmeans-anom-$seed"; t=$(timed "$d" $run "$DSC" kmeans -q -k 7 --anomalies --seed "$seed" --force -o "$d" $files); score kmeans-anomalies "$seed" "$d" "$t"
  for S in $STEPS; do
    d="$out/dsc-S$S-$seed"
    # shellcheck disable=SC2086
    t=$(timed "$d" $run "$DSC" train -q -k 7 --anomalies --steps "$S" --seed "$seed" $TRAIN_ARGS --force -o "$d" $files)
    score "dsc-anomalies-S$S" "$seed" "$d" "$t"
  done
  IFS=';' read -ra extras <<< "${EXTRA:-}"
  for e in "${extras[@]}"; do
    [ -n "$e" ] || continue
    name=${e%%:*}; opts=${e#*:}
    d="$out/$name-$seed"
    # shellcheck disable=SC2086
    t=$(timed "$d" $run "$DSC" train -q -k 7 --seed "$seed" $TRAIN_ARGS $opts --force -o "$d" $files)
    score "$name" "$seed" "$d" "$t"
  done
done

/usr/bin/python3 - "$csv" > "$out/quality.md" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
keys = ["ari", "nmi", "silhouette", "davies_bouldin", "silhouette_anom", "davies_bouldin_anom", "seconds"]
print("| method | runs | " + " | ".join(keys) + " |")
print("|---|---|" + "---|" * len(keys))
for m in dict.fromkeys(r["method"] for r in rows):
    rs = [r for r in rows if r["method"] == m]
    cells = []
    for k in keys:
        v = [float(r[k]) for r in rs if r[k] != ""]
        if not v:
            cells.append("-"); continue
        sd = statistics.stdev(v) if len(v) > 1 else 0.0
        best = min(v) if k.startswith("davies") or k == "seconds" else max(v)
        cells.append(f"{statistics.mean(v):.3f} ± {sd:.3f} (best {best:.3f})")
    print(f"| {m} | {len(rs)} | " + " | ".join(cells) + " |")
PY
cat "$out/quality.md"
