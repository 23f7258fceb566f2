#!/bin/bash
# persistence_compare.sh - the persistent regime methods against the plain
# ones (doc/results.md, "Persistent regimes"): dsc compare of k-means on
# anomalies, EOF + k-means, cosine k-means and DSC on anomalies, each with
# and without --persistence (DSC also with --persistence-target), on dsc synth data with mean episodes of 3, 5 and
# 8 days and on one more data set with other settings (5 regimes of 6 days,
# other variables, grid, noise, years and seed), then one table of ARI, NMI,
# anomaly silhouette, Davies-Bouldin and mean episode length per data set.
#
#   bash bench/persistence_compare.sh OUTDIR [SEEDS] [RANKS]
#
# Environment: DSC (default ./dsc), PERSISTENCE (5d: the one value every
# persistent method gets, the truth's episode length is NOT used), NET (the
# dsc train settings), SETS (which data sets: "p3 p5 p8 other").  Not run by
# make check: about 25 minutes per data set on 2 cores with 5 seeds.
set -euo pipefail
out=${1:?usage: persistence_compare.sh OUTDIR [SEEDS] [RANKS]}
seeds=${2:-5}
np=${3:-2}
DSC=${DSC:-./dsc}
PERSISTENCE=${PERSISTENCE:-5d}
NET=${NET:-"--conv 8,8,16,32,64 --lstm 64,64 --latent 16 --max-iter 200"}
SETS=${SETS:-"p3 p5 p8 other"}
METHODS=kmeans-anomalies,kmeans-anomalies-persistent,eof-kmeans,eof-kmeans-persistent,cosine-kmeans,cosine-kmeans-persistent
METHODS=$METHODS,dsc-anomalies,dsc-anomalies-persistent,dsc-anomalies-persistent-target
export OMP_NUM_THREADS=1
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
run="mpirun --oversubscribe -n $np"
mkdir -p "$out"

for set in $SETS; do
  data="$out/data_$set" k=7
  case $set in
    p[0-9]*) synth="--grid 16x16 --vars t2m,sp,u10,v10 --persistence ${set#p}" ;;
    other) synth="--grid 20x12 --vars sp,t2m,sst --regimes 5 --persistence 6 --noise 1.0 --years 1991-1994 --seed 7" k=5 ;;
    *) echo "persistence_compare.sh: unknown data set $set" >&2; exit 2 ;;
  esac
  # shellcheck disable=SC2086
  [ -f "$data/truth.csv" ] || $run "$DSC" synth -q -o "$data" $synth
  [ -f "$out/cmp_$set/compare.csv" ] ||
    $run "$DSC" compare -q -k $k --seeds "$seeds" --persistence "$PERSISTENCE" --methods "$METHODS" \
      --truth "$data/truth.csv" --train-options "$NET" --force -o "$out/cmp_$set" "$data"/era5_*.nc
done

/usr/bin/python3 - "$out" $SETS <<'PY'
import csv, re, sys
out, sets = sys.argv[1], sys.argv[2:]
cols = [("ari", "ARI"), ("nmi", "NMI"), ("anomaly_silhouette", "silhouette (anomalies)"),
        ("anomaly_davies_bouldin", "Davies-Bouldin (anomalies)"), ("episode_days", "mean episode (days)")]
for s in sets:
    rows = list(csv.DictReader(open(f"{out}/cmp_{s}/compare.csv")))
    md = re.search(r"reference labelling: ([0-9.]+) days", open(f"{out}/cmp_{s}/compare.md").read())
    print(f"\n{s}: the truth's mean episode {md.group(1) if md else '?'} days\n")
    print("| method | " + " | ".join(c[1] for c in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for r in rows:
        cell = lambda c: f"{float(r[c + '_mean']):.3f} +- {float(r[c + '_std']):.3f}"
        print(f"| {r['method']} | " + " | ".join(cell(c) for c, _ in cols) + " |")
PY
