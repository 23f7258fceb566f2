#!/bin/bash
# jobscripts.sh - jobscripts/train.sbatch under a real single-node Slurm
# (tests/slurm_cluster.sh): with srun --mpi=pmix and with mpirun; a failing
# job must report failure; scancel --signal=USR1 --batch in the middle of a
# run, then the resubmitted job (mpirun) and the requeued job (srun, sbatch
# --requeue: the script requeues itself) resume and end with exactly the
# labels of an uninterrupted run.
. ./tests/testenv.sh
. "$top_srcdir/tests/slurm_cluster.sh"
slurm_start

J="$WORK/job"
mkdir -p "$J"
cd "$J" || exit 1
SMALL="-k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --pretrain-epochs 1 --kmeans-init 2"
for launcher in srun mpirun; do
  out="$J/$launcher.out"
  : > "$WORK/log"
  if DSC="$DSC" DSC_LAUNCHER=$launcher DSC_WORKDIR="$J" DSC_OUTPUT="$J/run-$launcher" \
     DSC_SYNTH_ARGS="--years 2001-2002 --grid 16x16 --regimes 4" DSC_ARGS="$SMALL --max-iter 20" \
     timeout 300 sbatch --wait --ntasks=2 -o "$out" "$top_srcdir/jobscripts/train.sbatch" > "$WORK/log" 2>&1; then
    pass "sbatch --wait with $launcher: job succeeded"
  else
    cat "$out" >> "$WORK/log" 2> /dev/null; fail "sbatch --wait with $launcher: job succeeded"
  fi
  check "$launcher job ran on 2 ranks" grep -q "2 ranks" "$out"
  check "$launcher job trained on both years: labels and model of the run" sh -c \
    "test -s '$J/run-$launcher/model.ckpt' && grep -q 'dsc train: done' '$out' \
     && test \$(grep -c '^2001-' '$J/run-$launcher/labels.csv') = 365 && test \$(grep -c '^2002-' '$J/run-$launcher/labels.csv') = 365"
done
check "the sample data set was written once" test -f "$J/sample/truth.csv"

: > "$WORK/log"
if DSC="$DSC" DSC_INPUT="$J/no_such_*.nc" DSC_WORKDIR="$J" DSC_OUTPUT="$J/bad" \
   timeout 300 sbatch --wait --ntasks=2 -o "$J/bad.out" "$top_srcdir/jobscripts/train.sbatch" > "$WORK/log" 2>&1; then
  fail "a job on missing files fails"
else
  pass "a job on missing files fails"
fi
check "the failing job says which file" grep -q "dsc: error:.*no_such" "$J/bad.out"
check "the failing job left no run folder behind" test ! -e "$J/bad/labels.csv"

# Stop and resume.  The input is a file list with relative paths (made
# absolute by the script); 100 joint steps, a progress line every 10.
printf 'sample/era5_2001.nc\nsample/era5_2002.nc\n' > "$J/years.txt"
LONG="$SMALL --batch 12 --max-iter 100 --update-interval 10 --tol 0"
train_job() { # NAME LAUNCHER SBATCH-OPTIONS...: runs sbatch --wait, job id in NAME.id
  _name=$1 _launcher=$2; shift 2
  DSC="$DSC" DSC_LAUNCHER=$_launcher DSC_WORKDIR="$J" DSC_OUTPUT="$J/$_name" DSC_INPUT_LIST=years.txt \
    DSC_ARGS="$LONG" timeout 300 sbatch --wait --parsable --ntasks=2 -o "$J/$_name.out" "$@" \
    "$top_srcdir/jobscripts/train.sbatch" > "$J/$_name.id" 2> "$J/$_name.err"
}
stop_job() { # NAME LAUNCHER SBATCH-OPTIONS...: train_job in the background, USR1 mid-run; its status
  train_job "$@" &
  _pid=$!
  _i=0
  until grep -q '^step  *[2-5]0/' "$J/$1.out" 2> /dev/null || [ $_i -ge 1200 ]; do sleep 0.1; _i=$((_i + 1)); done
  scancel --signal=USR1 --batch "$(cut -d';' -f1 "$J/$1.id")"
  wait $_pid
}

if train_job ref srun; then pass "uninterrupted reference run (srun, 2 ranks, 100 joint steps)"
else cat "$J/ref.out" "$J/ref.err" > "$WORK/log" 2> /dev/null; fail "uninterrupted reference run (srun, 2 ranks, 100 joint steps)"; fi
stop_job stop mpirun --no-requeue
rc=$?
cat "$J/stop.out" "$J/stop.err" > "$WORK/log" 2> /dev/null
if [ $rc = 3 ] && [ -s "$J/stop/checkpoint.ckpt" ] && [ ! -e "$J/stop/labels.csv" ]; then
  pass "scancel --signal=USR1 --batch (mpirun, --no-requeue): job ends with 3, checkpoint written, no labels yet"
else
  fail "scancel --signal=USR1 --batch (mpirun, --no-requeue): exit status $rc, expected 3 and a checkpoint"
fi
check "the stopped job says how to continue" grep -q "submit this job again" "$J/stop.out"
# Submitted again from another directory: the run's relative inputs were made absolute.
mkdir -p "$J/elsewhere"
check "the resubmitted job (another directory) resumes and ends with exactly the labels of the uninterrupted run" sh -c \
  "DSC='$DSC' DSC_LAUNCHER=mpirun DSC_WORKDIR='$J' DSC_OUTPUT='$J/stop' DSC_INPUT_LIST='$J/years.txt' DSC_ARGS='$LONG' \
   timeout 300 sbatch --wait --ntasks=2 -D '$J/elsewhere' -o '$J/stop2.out' '$top_srcdir/jobscripts/train.sbatch' \
   && grep -q 'resuming' '$J/stop2.out' && cmp '$J/ref/labels.csv' '$J/stop/labels.csv'"

stop_job requeue srun --requeue
rc=$?
cat "$J/requeue.out" "$J/requeue.err" > "$WORK/log" 2> /dev/null
if [ $rc = 0 ] && grep -q "requeueing job" "$J/requeue.out" && grep -q "restart 1" "$J/requeue.out" \
   && grep -q "resuming" "$J/requeue.out"; then
  pass "scancel --signal=USR1 --batch (srun, --requeue): the job requeues itself, resumes and succeeds"
else
  fail "scancel --signal=USR1 --batch (srun, --requeue): status $rc, requeue and resume expected in the log"
fi
check "the requeued job ends with exactly the labels of the uninterrupted run" cmp "$J/ref/labels.csv" "$J/requeue/labels.csv"
check "no checkpoint is left after the resumed runs" sh -c "test ! -e '$J/stop/checkpoint.ckpt' && test ! -e '$J/requeue/checkpoint.ckpt'"
tap_done
