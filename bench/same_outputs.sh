#!/bin/bash
# same_outputs.sh - run one fixed set of dsc commands with two builds and compare every
# output byte for byte (a refactoring must not change any of them).
#
#   bench/same_outputs.sh OLD_DSC NEW_DSC [WORKDIR]
#   QUICKSTART=1 bench/same_outputs.sh OLD_DSC NEW_DSC [WORKDIR]
#
# The first runs a small fixed set (about 1.5 minutes on 2 cores); with QUICKSTART=1 the
# commands of jobscripts/quickstart.sh run instead (the sample in the new CDS encoding, dsc train
# and dsc kmeans on it, about 10 minutes on 2 cores).
#
# OLD_DSC and NEW_DSC are dsc executables (e.g. a build of the previous commit and of this
# one).  Every file the commands write is compared with cmp; the only fields masked are the
# ones that hold a wall-clock time or a date (timings in metrics.json and compare.*, the
# netCDF history attribute), which differ between two runs of the same build.
# Exit status 0 when everything matches; the differing files are listed otherwise.
set -u
[ $# -ge 2 ] || { echo "usage: $0 OLD_DSC NEW_DSC [WORKDIR]" >&2; exit 2; }
old=$(readlink -f "$1"); new=$(readlink -f "$2")
work=${3:-$(mktemp -d /tmp/same_outputs.XXXXXX)}
mkdir -p "$work"
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi="mpirun --oversubscribe -n"

# run_all DSC DIR: the fixed command set; each command's stdout, stderr and status are kept
run_all() {
  local dsc=$1 d=$2
  rm -rf "$d"; mkdir -p "$d"; cd "$d" || exit 2
  step() { local name=$1; shift; "$@" > "$name.out" 2> "$name.err"; echo $? > "$name.status"; }
  local net="--conv 4,4,8,8,8 --lstm 8,8 --latent 4 --max-iter 30 --pretrain-epochs 2 --batch 16"
  step synth $mpi 2 "$dsc" synth --years 2001-2002 --grid 12x16 --seed 5 -o data
  step synth_newcds $mpi 2 "$dsc" synth --years 2001 --grid 12x16 --seed 5 --encoding newcds -o data4
  step info "$dsc" info --json data/era5_2001.nc data4/era5_2001_instant.nc data4/era5_2001_accum.nc
  step train $mpi 2 "$dsc" train -k 4 --anomalies $net --seed 3 --truth data/truth.csv -o run data/era5_*.nc
  step train3 $mpi 3 "$dsc" train -k 4 $net --seed 3 -o run3 data/era5_*.nc
  step predict $mpi 2 "$dsc" predict --model run/model.ckpt -o pred data/era5_2002.nc
  step eval $mpi 2 "$dsc" eval --labels run/labels.csv --truth data/truth.csv -o eval.json data/era5_*.nc
  step kmeans $mpi 2 "$dsc" kmeans -k 4 --anomalies --seed 2 --truth data/truth.csv -o km data/era5_*.nc
  step kmeans4 $mpi 2 "$dsc" kmeans -k 4 --seed 2 -o km4 data4/era5_2001_*.nc
  step ward $mpi 2 "$dsc" ward -k 4 --truth data/truth.csv -o ward data/era5_*.nc
  step dec $mpi 2 "$dsc" train -k 4 --variant dec --max-iter 30 --pretrain-epochs 2 --batch 16 --seed 3 -o dec data/era5_*.nc
  step dtc $mpi 2 "$dsc" train -k 4 --variant dtc --max-iter 30 --pretrain-epochs 2 --batch 16 --seed 3 -o dtc data/era5_*.nc
  step compare $mpi 2 "$dsc" compare -k 4 --seeds 1 --truth data/truth.csv \
       --train-options "$net" -o cmp data/era5_*.nc
  step bad_k "$dsc" train -k 0 -o bad data/era5_*.nc
  step bad_file "$dsc" kmeans -k 4 -o bad2 data/truth.csv
  cd - > /dev/null
}

# run_quickstart DSC DIR: the main job of the quick start, as jobscripts/quickstart.sh runs it
run_quickstart() {
  local dsc=$1 d=$2
  rm -rf "$d"; mkdir -p "$d"; cd "$d" || exit 2
  step() { local name=$1; shift; "$@" > "$name.out" 2> "$name.err"; echo $? > "$name.status"; }
  step synth $mpi 2 "$dsc" synth --encoding newcds --force -o sample
  step train $mpi 2 "$dsc" train -k 7 --anomalies --scaling cell --conv 8,8,16,32,64 --lstm 64,64 --latent 16 \
       --max-iter 200 --truth sample/truth.csv --force -o run1 sample/era5_*.nc
  step kmeans $mpi 2 "$dsc" kmeans -k 7 --anomalies --truth sample/truth.csv --force -o km1 sample/era5_*.nc
  cd - > /dev/null
}

# normalise FILE: a text copy with the fields that hold a time or a process id masked
normalise() {
  case "$1" in
    *.nc) ncdump "$1" | sed -e 's/:history = .*/:history = MASKED/' ;;
    *) /usr/bin/python3 - "$1" <<'PY' ;;
import csv, json, re, sys
path = sys.argv[1]
text = open(path, errors="replace").read()
def mask(obj, key=""):
    if key == "timings" or re.search(r"(seconds|_s$|elapsed|per_s)", key):
        return "MASKED"
    if isinstance(obj, dict):
        return {k: mask(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [mask(v) for v in obj]
    return obj
if path.endswith(".json"):
    print(json.dumps(mask(json.loads(text)), indent=1))
elif path.endswith(".csv") and text.startswith("method,"):
    rows = list(csv.reader(text.splitlines()))
    keep = [i for i, h in enumerate(rows[0]) if not h.startswith("time_s")]
    for r in rows:
        print([r[i] for i in keep])
elif path.endswith(".md"):
    for line in text.splitlines():
        print("|".join(line.split("|")[:-2]) if line.startswith("| ") else line)
else:
    text = re.sub(r"elapsed +[0-9:]+", "elapsed N", text)
    text = re.sub(r"left +\S+", "left N", text)
    text = re.sub(r"[0-9.]+ samples/s", "N samples/s", text)
    text = re.sub(r"\b[0-9]+\.[0-9]+ s\b", "N s", text)
    text = re.sub(r"Process name: .*", "Process name: N", text)
    text = re.sub(r"\((read|[a-z]+) [0-9.]+(, [a-z ]+ [0-9.]+)*\)", lambda m: re.sub(r"[0-9.]+", "N", m.group(0)), text)
    text = re.sub(r"^(\| .*)\|[^|]*\|$", r"\1|", text, flags=re.M)
    print(text)
PY
  esac
}

runner=run_all
[ "${QUICKSTART:-0}" = 1 ] && runner=run_quickstart
$runner "$old" "$work/old"
$runner "$new" "$work/new"
status=0; n=0
while IFS= read -r f; do
  n=$((n + 1))
  if [ ! -e "$work/new/$f" ]; then echo "only in old: $f"; status=1; continue; fi
  cmp -s "$work/old/$f" "$work/new/$f" && continue
  if ! diff <(normalise "$work/old/$f") <(normalise "$work/new/$f") > "$work/diff.tmp"; then
    echo "differs: $f"; head -5 "$work/diff.tmp"; status=1
  fi
done < <(cd "$work/old" && find . -type f ! -name '*.lock' | sort)
while IFS= read -r f; do
  [ -e "$work/old/$f" ] || { echo "only in new: $f"; status=1; }
done < <(cd "$work/new" && find . -type f | sort)
echo "same_outputs: $n files compared in $work: $([ $status = 0 ] && echo all the same || echo DIFFERENT)"
exit $status
