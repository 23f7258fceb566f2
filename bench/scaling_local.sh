#!/bin/bash
# scaling_local.sh - strong and weak scaling of dsc train and dsc eval on one
# node, phase by phase, in several ranks x threads layouts; medians of REPEAT
# runs.  The measurements behind doc/scaling.md.
#
#   bash bench/scaling_local.sh OUTDIR [REPEAT]
#
# Layouts: LAYOUTS="1x1 2x1 1x2" (ranks x threads; on a 16-core node e.g.
# "1x16 2x8 4x4 8x2 16x1").  Strong scaling: STRONG_YEARS years, the same
# global batch at every layout.  Weak scaling: WEAK_YEARS_PER_RANK years per
# rank, global batch BATCH_PER_RANK x ranks.  The network is the paper's
# unless MODEL is set.  Every run appends one row to OUTDIR/scaling.csv:
# kind, command, ranks, threads, years, samples/s of the joint steps and the
# per-phase times (maximum over ranks) from metrics.json.  Not run by make check.
set -euo pipefail
out=${1:?usage: scaling_local.sh OUTDIR [REPEAT]}
repeat=${2:-2}
DSC=${DSC:-./dsc}
LAYOUTS=${LAYOUTS:-1x1 2x1 1x2}
STRONG_YEARS=${STRONG_YEARS:-2}
WEAK_YEARS_PER_RANK=${WEAK_YEARS_PER_RANK:-1}
BATCH=${BATCH:-16}
BATCH_PER_RANK=${BATCH_PER_RANK:-8}
STEPS=${STEPS:-20}
MODEL=${MODEL:-}
GRID=${GRID:-41x41}
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
mkdir -p "$out"
csv="$out/scaling.csv"
[ -f "$csv" ] || echo "kind,command,ranks,threads,years,batch,repeat,samples_per_s,read,preprocess,pretrain,kmeans,joint_compute,joint_allreduce_wait,target_update,evaluation,write,eval_pairwise,eval_other,total" > "$csv"
maxranks=1
for l in $LAYOUTS; do [ "${l%x*}" -gt "$maxranks" ] && maxranks=${l%x*}; done
maxyears=$(( WEAK_YEARS_PER_RANK * maxranks > STRONG_YEARS ? WEAK_YEARS_PER_RANK * maxranks : STRONG_YEARS ))
data="$out/data"
[ -f "$data/truth.csv" ] || mpirun --oversubscribe -n 2 "$DSC" synth -q -o "$data" --years "2001-$((2000 + maxyears))" --grid "$GRID"
files() { local n=$1 f=""; for y in $(seq 2001 $((2000 + n))); do f="$f $data/era5_$y.nc"; done; echo "$f"; }

row() {  # kind command ranks threads years batch repeat dir seconds
  /usr/bin/python3 - "$@" >> "$csv" <<'PY'
import json, sys
kind, cmd, p, t, years, batch, rep, d, secs = sys.argv[1:10]
m = json.load(open(d + "/metrics.json"))
tm = m.get("timings", {})
def g(k):
    v = tm.get(k)
    return "" if v is None else "%.3f" % (v["max"] if isinstance(v, dict) else v)
sps = ""
if cmd == "train" and tm.get("joint_compute"):
    c = tm["joint_compute"]["max"] + tm["joint_allreduce_wait"]["max"]
    sps = "%.3f" % (int(batch) * m["joint_steps"] / c)
pair = g("silhouette_and_inter_cluster") if cmd == "eval" else ""
other = ""
if cmd == "eval":
    other = "%.3f" % sum(v for k, v in tm.items() if k not in ("read", "preprocess", "silhouette_and_inter_cluster", "total") and isinstance(v, (int, float)))
print(",".join([kind, cmd, p, t, years, batch, rep, sps, g("read"), g("preprocess"), g("pretrain"), g("kmeans"),
                g("joint_compute"), g("joint_allreduce_wait"), g("target_update"), g("evaluation"), g("write"),
                pair, other, secs]))
PY
}

run_train() {  # kind ranks threads years batch repeat
  local kind=$1 p=$2 t=$3 years=$4 b=$5 r=$6 d="$out/$1-train-$2x$3-$6" s e
  s=$(date +%s.%N)
  # shellcheck disable=SC2086,SC2046
  OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t mpirun --oversubscribe -n "$p" -x OMP_NUM_THREADS -x OPENBLAS_NUM_THREADS \
    "$DSC" train -q -k 7 $MODEL --batch "$b" --pretrain-epochs 1 --max-iter "$STEPS" --update-interval 10 \
    --kmeans-init 1 --force -o "$d" $(files "$years")
  e=$(date +%s.%N)
  row "$kind" train "$p" "$t" "$years" "$b" "$r" "$d" "$(echo "$e - $s" | bc)"
}

run_eval() {  # kind ranks threads years repeat (the planted regimes of the data as the labels)
  local kind=$1 p=$2 t=$3 years=$4 r=$5 d="$out/$1-eval-$2x$3-$5" s e
  mkdir -p "$d"
  s=$(date +%s.%N)
  # shellcheck disable=SC2046
  OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t mpirun --oversubscribe -n "$p" -x OMP_NUM_THREADS -x OPENBLAS_NUM_THREADS \
    "$DSC" eval --labels "$data/truth.csv" -o "$d/metrics.json" $(files "$years")
  e=$(date +%s.%N)
  row "$kind" eval "$p" "$t" "$years" 0 "$r" "$d" "$(echo "$e - $s" | bc)"
}

for r in $(seq 1 "$repeat"); do
  for l in $LAYOUTS; do
    p=${l%x*}; t=${l#*x}
    run_train strong "$p" "$t" "$STRONG_YEARS" "$BATCH" "$r"
    run_train weak "$p" "$t" $(( WEAK_YEARS_PER_RANK * p )) $(( BATCH_PER_RANK * p )) "$r"
    run_eval strong "$p" "$t" "$STRONG_YEARS" "$r"
  done
done

/usr/bin/python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
phases = ["read", "preprocess", "pretrain", "kmeans", "joint_compute", "joint_allreduce_wait", "target_update", "evaluation", "write"]
def med(rs, k):
    v = [float(r[k]) for r in rs if r[k] != ""]
    return statistics.median(v) if v else None
for kind in ("strong", "weak"):
    rs = [r for r in rows if r["kind"] == kind and r["command"] == "train"]
    layouts = sorted({(int(r["ranks"]), int(r["threads"])) for r in rs})
    print(f"\ndsc train, {kind} scaling (medians of {max(int(r['repeat']) for r in rs)} runs, seconds; samples/s of the joint steps)\n")
    print("| ranks x threads | years | batch | samples/s | " + " | ".join(phases) + " | total |")
    print("|---" * (len(phases) + 5) + "|")
    for p, t in layouts:
        sel = [r for r in rs if int(r["ranks"]) == p and int(r["threads"]) == t]
        cells = [f"{med(sel, k):.2f}" if med(sel, k) is not None else "" for k in phases]
        print(f"| {p} x {t} | {sel[0]['years']} | {sel[0]['batch']} | {med(sel, 'samples_per_s'):.2f} | " + " | ".join(cells) + f" | {med(sel, 'total'):.1f} |")
rs = [r for r in rows if r["command"] == "eval"]
if rs:
    print("\ndsc eval, strong scaling (medians, seconds)\n")
    print("| ranks x threads | years | read | preprocess | silhouette and inter-cluster | other metrics | total |")
    print("|---|---|---|---|---|---|---|")
    for p, t in sorted({(int(r["ranks"]), int(r["threads"])) for r in rs}):
        sel = [r for r in rs if int(r["ranks"]) == p and int(r["threads"]) == t]
        print(f"| {p} x {t} | {sel[0]['years']} | {med(sel, 'read'):.2f} | {med(sel, 'preprocess'):.2f} | {med(sel, 'eval_pairwise'):.2f} | {med(sel, 'eval_other'):.2f} | {med(sel, 'total'):.1f} |")
PY
