#!/bin/bash
# scaling.sh - submit a strong or weak scaling series of dsc train, eval or
# predict: one scaling.sbatch job per rank count, each appending one row
# (ranks, threads, years, samples/s, per-phase times) to one CSV file.
#
#   bash scaling.sh --mode strong --ranks 1,2,4,8 --csv strong.csv /data/era5/era5_20*.nc
#   bash scaling.sh --mode weak --ranks 1,2,4,8 --years-per-rank 2 --csv weak.csv /data/era5/era5_*.nc
#   bash scaling.sh --command eval --labels run/labels.csv --ranks 1,2,4 --csv eval.csv /data/era5/era5_*.nc
#
# Strong scaling: every job reads all FILES.  Weak scaling: a job on P ranks
# reads the first P x N FILES (N = --years-per-rank; one file per year).
# Without --wait the jobs are submitted at once, each depending on the one
# before (--dependency=afterany), so that they do not share nodes and time;
# with --wait they run one after another and the script waits for each and
# fails when one fails.  The CSV columns are described in scaling.sbatch.
#
# Options:
#   --mode strong|weak       the series (default: strong)
#   --command train|eval|predict   what is measured (default: train)
#   --ranks LIST             comma-separated rank counts (default: 1,2)
#   --threads N              OpenMP threads per rank, --cpus-per-task (default: 1)
#   --years-per-rank N       weak scaling: input files per rank (default: 1)
#   --csv FILE               the CSV file (default: scaling.csv); rows are appended
#   --outdir DIR             run folders and job logs (default: scaling-runs; created, but
#                            not its parent: a missing parent is named, as by dsc -o)
#   --args "OPTIONS"         options of the dsc command (train: e.g. "-k 7 --max-iter 100")
#   --labels FILE            eval: the labels file (covering the time steps of all FILES)
#   --model FILE             predict: model.ckpt of a dsc train run
#   --sbatch "OPTIONS"       more sbatch options (e.g. "--time=02:00:00 --exclusive")
#   --wait                   run the jobs one after another and wait for them
# The environment (DSC, DSC_LAUNCHER, DSC_MODULE) is passed on to the jobs.
set -euo pipefail
me=scaling.sh
usage_line() { echo "usage: $me [--mode strong|weak] [--command train|eval|predict] [--ranks LIST] [--threads N] [--years-per-rank N] [--csv FILE] [--outdir DIR] [--args OPTIONS] [--labels FILE] [--model FILE] [--sbatch OPTIONS] [--wait] FILES..." >&2; }
usage() { usage_line; exit 2; }
# an option without its value: say which, then the usage line
value() { # OPTION [ANY]: $2 is the value; ANY allows an empty one (--args "")
  if [ "$3" -lt 2 ] || { [ "${4:-}" != any ] && [[ -z "$2" || "$2" == --* ]]; }; then
    echo "$me: option $1 needs a value" >&2; usage
  fi
}
die() { echo "$me: $*" >&2; exit 2; }

mode=strong command=train ranks=1,2 threads=1 ypr=1 csv=scaling.csv outdir=scaling-runs
args="" labels="" model="" sbatch_opts="" wait=0
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) value "$1" "${2-}" $#; mode=$2; shift 2 ;;
    --command) value "$1" "${2-}" $#; command=$2; shift 2 ;;
    --ranks) value "$1" "${2-}" $#; ranks=$2; shift 2 ;;
    --threads) value "$1" "${2-}" $#; threads=$2; shift 2 ;;
    --years-per-rank) value "$1" "${2-}" $#; ypr=$2; shift 2 ;;
    --csv) value "$1" "${2-}" $#; csv=$2; shift 2 ;;
    --outdir) value "$1" "${2-}" $#; outdir=$2; shift 2 ;;
    --args) value "$1" "${2-}" $# any; args=$2; shift 2 ;;
    --labels) value "$1" "${2-}" $#; labels=$2; shift 2 ;;
    --model) value "$1" "${2-}" $#; model=$2; shift 2 ;;
    --sbatch) value "$1" "${2-}" $# any; sbatch_opts=$2; shift 2 ;;
    --wait) wait=1; shift ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -*) die "unknown option '$1'; see $me --help" ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || usage
files=("$@")
case "$mode" in strong|weak) ;; *) die "--mode must be strong or weak, not '$mode'" ;; esac
case "$command" in train|eval|predict) ;; *) die "--command must be train, eval or predict, not '$command'" ;; esac
[[ "$ranks" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--ranks must be rank counts separated by commas (e.g. 1,2,4), not '$ranks'"
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer, not '$threads'"
[[ "$ypr" =~ ^[1-9][0-9]*$ ]] || die "--years-per-rank must be a positive integer, not '$ypr'"
[ "$command" != eval ] || [ -n "$labels" ] || die "--command eval needs --labels FILE"
[ "$command" != predict ] || [ -n "$model" ] || die "--command predict needs --model FILE"
for f in "${files[@]}"; do [ -r "$f" ] || die "cannot read input file '$f'"; done
IFS=, read -r -a counts <<< "$ranks"
if [ "$mode" = weak ]; then
  for p in "${counts[@]}"; do
    [ $((p * ypr)) -le ${#files[@]} ] ||
      die "weak scaling to $p ranks at $ypr years per rank needs $((p * ypr)) input files, got ${#files[@]}"
  done
fi
here=$(cd "$(dirname "$0")" && pwd)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
# folders as dsc -o: --outdir is created, its parent and the CSV's folder must exist
for d in "$(dirname "$outdir")" "$(dirname "$csv")"; do
  [ -d "$d" ] || die "the folder $d does not exist; create it first (mkdir -p '$d')"
done
[ -d "$outdir" ] || mkdir "$outdir"
outdir=$(cd "$outdir" && pwd)
csv=$(abs "$csv")
[ -z "$labels" ] || labels=$(abs "$labels")
[ -z "$model" ] || model=$(abs "$model")

status=0
previous=""
for p in "${counts[@]}"; do
  n=${#files[@]}
  [ "$mode" = weak ] && n=$((p * ypr))
  tag="$command-$mode-$p"
  for f in "${files[@]:0:n}"; do abs "$f"; done > "$outdir/$tag.files"
  opts=(--ntasks="$p" --cpus-per-task="$threads" --job-name="dsc-$tag" --output="$outdir/$tag.out")
  if [ $wait = 1 ]; then
    opts+=(--wait)
  elif [ -n "$previous" ]; then
    opts+=(--dependency=afterany:"$previous")
  fi
  # shellcheck disable=SC2086
  if id=$(DSC_CSV="$csv" DSC_COMMAND="$command" DSC_MODE="$mode" DSC_INPUT_LIST="$outdir/$tag.files" \
          DSC_OUTPUT="$outdir/$tag" DSC_ARGS="$args" DSC_LABELS="$labels" DSC_MODEL="$model" \
          sbatch --parsable "${opts[@]}" $sbatch_opts "$here/scaling.sbatch"); then
    previous=${id%%;*}
    echo "$me: job $previous: dsc $command on $p ranks x $threads threads, $n files (log $outdir/$tag.out)"
  else
    echo "$me: the job of $p ranks failed (log $outdir/$tag.out)" >&2
    status=1
    [ $wait = 1 ] || break
  fi
done
[ $wait = 1 ] && [ $status = 0 ] && echo "$me: done; rows in $csv"
exit $status
