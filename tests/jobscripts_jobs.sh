#!/bin/bash
# jobscripts_jobs.sh - jobscripts/predict.sbatch, eval.sbatch and the
# scaling series (scaling.sh, scaling.sbatch) under a real single-node Slurm
# (tests/slurm_cluster.sh), on a run trained here: predict labels another
# year as dsc predict does outside Slurm, eval reproduces the run's
# metrics, a strong and a weak series (1 and 2 ranks) and an eval series
# give one CSV row per job with the metrics.json timings; bad settings stop
# the job with one line naming them.
. ./tests/testenv.sh
"$PYTHON" -c 'import json, csv' 2> /dev/null || skip_all "$PYTHON is not usable"
. "$top_srcdir/tests/slurm_cluster.sh"
slurm_start

J="$WORK/job"
D="$J/data"
mkdir -p "$J"
cd "$J" || exit 1
SMALL="-k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --pretrain-epochs 1 --kmeans-init 2 --max-iter 10"
check "dsc synth: three years on a 16x16 grid" "$DSC" synth -q -o "$D" --years 2001-2003 --grid 16x16 --regimes 4
# shellcheck disable=SC2086
check "dsc train on 2001-2002 (2 ranks, outside Slurm)" run_np 2 "$DSC" train -q $SMALL --truth "$D/truth.csv" \
  -o "$J/run" "$D/era5_2001.nc" "$D/era5_2002.nc"

job() { # SCRIPT OUT VAR=VALUE...: sbatch --wait on 2 ranks with the environment given
  _script=$1 _out=$2; shift 2
  env DSC="$DSC" "$@" timeout 300 sbatch --wait --parsable --ntasks=2 -o "$_out" "$top_srcdir/jobscripts/$_script" \
    > "$WORK/log" 2>&1
  _rc=$?
  # sbatch --wait says 0 for a job slurmctld has already forgotten: the
  # status slurmctld logged decides.
  _id=$(grep -Eo '^[0-9]+' "$WORK/log" | head -n 1)
  _st=$(slurm_job_status "$_id")
  if [ "$_rc" = 0 ] && [ "$_st" != "EXITSTATUS 0" ]; then
    echo "sbatch --wait said 0; slurmctld logged '${_st:-no end}' for job $_id" >> "$WORK/log"
    return 1
  fi
  return $_rc
}

# predict.sbatch: DSC_MODEL is the run's folder
if job predict.sbatch "$J/predict.out" DSC_MODEL="$J/run" DSC_INPUT="$D/era5_2003.nc" DSC_OUTPUT="$J/predict" \
   DSC_ARGS="--truth $D/truth.csv"; then
  pass "predict.sbatch (srun) succeeded"
else
  cat "$J/predict.out" >> "$WORK/log" 2> /dev/null; fail "predict.sbatch (srun) succeeded"
fi
check "predict.sbatch labelled the 365 days of 2003, with ARI against the truth" sh -c \
  "test \$(grep -c '^2003-' '$J/predict/labels.csv') = 365 && test \$(wc -l < '$J/predict/labels.csv') = 366 \
   && grep -q '\"ari\": ' '$J/predict/metrics.json' || { ls -l '$J/predict'; cat '$J/predict.out'; exit 1; }"
check "predict.sbatch gives the labels of dsc predict outside Slurm (3 ranks)" sh -c \
  "$(echo "$TESTMPIRUN" | sed s/NP/3/) '$DSC' predict -q -m '$J/run/model.ckpt' -o '$J/predict3' '$D/era5_2003.nc' \
   && cmp '$J/predict/labels.csv' '$J/predict3/labels.csv'"

# OpenMP threads from --cpus-per-task: a wrapper records what dsc sees.
printf '#!/bin/sh\necho "$OMP_NUM_THREADS" > "%s/threads.$$"\nexec "%s" "$@"\n' "$J" "$DSC" > "$J/dsc-wrapper"
chmod +x "$J/dsc-wrapper"
check "predict.sbatch with --ntasks=1 --cpus-per-task=2" env DSC="$J/dsc-wrapper" DSC_MODEL="$J/run/model.ckpt" \
  DSC_INPUT="$D/era5_2003.nc" DSC_OUTPUT="$J/predict-t2" timeout 300 sbatch --wait --ntasks=1 --cpus-per-task=2 \
  -o "$J/predict-t2.out" "$top_srcdir/jobscripts/predict.sbatch"
check "... dsc ran with OMP_NUM_THREADS=2" sh -c "test \"\$(cat '$J'/threads.*)\" = 2"

# eval.sbatch (mpirun): the run's own metrics again
printf '%s\n' "$D/era5_2001.nc" "$D/era5_2002.nc" > "$J/years.txt"
if job eval.sbatch "$J/eval.out" DSC_LAUNCHER=mpirun DSC_LABELS="$J/run/labels.csv" DSC_INPUT_LIST="$J/years.txt" \
   DSC_OUTPUT="$J/eval.json" DSC_ARGS="--truth $D/truth.csv"; then
  pass "eval.sbatch (mpirun) succeeded"
else
  cat "$J/eval.out" >> "$WORK/log" 2> /dev/null; fail "eval.sbatch (mpirun) succeeded"
fi
check "eval.sbatch reproduces the run's metrics.json" "$PYTHON" "$top_srcdir/tests/train_check.py" eval \
  "$J/run/metrics.json" "$J/eval.json"

# Bad settings: the job fails, one line says what to set or which file.
job_fails() { # DESC REGEX SCRIPT VAR=VALUE...
  _desc=$1 _re=$2 _script=$3; shift 3
  if job "$_script" "$J/fail.out" "$@"; then
    fail "$_desc (the job succeeded)"
  elif [ "$(grep -Ec '^(dsc: error:|[a-z]+\.sbatch: (set |cannot |.*other columns))' "$J/fail.out")" != 1 ] ||
       ! grep -Eq "$_re" "$J/fail.out"; then
    cat "$J/fail.out" >> "$WORK/log"; fail "$_desc (not one line matching /$_re/)"
  else
    pass "$_desc"
  fi
}
job_fails "predict.sbatch without DSC_MODEL fails and says so" "predict.sbatch: set DSC_MODEL" predict.sbatch \
  DSC_INPUT="$D/era5_2003.nc" DSC_OUTPUT="$J/p-bad"
job_fails "eval.sbatch with a missing labels file fails naming it" "dsc: error:.*no_such_labels.csv" eval.sbatch \
  DSC_LABELS="$J/no_such_labels.csv" DSC_INPUT="$D/era5_2001.nc" DSC_OUTPUT="$J/e-bad.json"
check "the failed jobs left no output behind" sh -c "test ! -e '$J/p-bad' && test ! -e '$J/e-bad.json'"

# Scaling series: 1 and 2 ranks, strong (2 years) and weak (1 year per rank)
# into one CSV; dsc eval strong into another.
SCALING="$top_srcdir/jobscripts/scaling.sh"
check "scaling.sh --mode strong --ranks 1,2 --wait" env DSC="$DSC" bash "$SCALING" --mode strong --ranks 1,2 --wait \
  --csv "$J/train.csv" --outdir "$J/sc" --args "$SMALL" "$D/era5_2001.nc" "$D/era5_2002.nc"
check "scaling.sh --mode weak --ranks 1,2 --years-per-rank 1 --wait" env DSC="$DSC" bash "$SCALING" --mode weak --ranks 1,2 \
  --years-per-rank 1 --wait --csv "$J/train.csv" --outdir "$J/sc" --args "$SMALL" "$D/era5_2001.nc" "$D/era5_2002.nc" "$D/era5_2003.nc"
check "train CSV: strong 1,2 ranks on 2 years, weak 1,2 ranks on 1,2 years; phases of metrics.json" \
  "$PYTHON" "$top_srcdir/tests/scaling_check.py" "$J/train.csv" "$J/sc" train \
  strong:1:2:730 strong:2:2:730 weak:1:1:365 weak:2:2:730
# Without --wait: a chain of jobs, each depending on the one before.
check "scaling.sh --command eval --ranks 1,2 submits a chain of jobs" env DSC="$DSC" DSC_LAUNCHER=mpirun bash "$SCALING" \
  --command eval --labels "$J/run/labels.csv" --ranks 1,2 --csv "$J/eval.csv" --outdir "$J/sc" "$D/era5_2001.nc" "$D/era5_2002.nc"
_i=0
while [ -n "$(squeue -h -o %i 2> /dev/null)" ] && [ $_i -lt 300 ]; do sleep 1; _i=$((_i + 1)); done
check "eval CSV: strong 1,2 ranks on 2 years; phases of eval.json" \
  "$PYTHON" "$top_srcdir/tests/scaling_check.py" "$J/eval.csv" "$J/sc" eval strong:1:2:730 strong:2:2:730
cp "$J/train.csv" "$J/train.before"
job_fails "an eval row into the train CSV fails naming the CSV" "scaling.sbatch: .*train.csv has other columns" \
  scaling.sbatch DSC_CSV="$J/train.csv" DSC_COMMAND=eval DSC_LABELS="$J/run/labels.csv" DSC_INPUT="$D/era5_2001.nc" \
  DSC_OUTPUT="$J/sc-mixed"
check "... and leaves the CSV as it was" cmp "$J/train.before" "$J/train.csv"

# scaling.sbatch run directly (no Slurm): settings and folders are checked
# before dsc runs (a wrapper counts its starts); the ranks column is what dsc
# counted, here DSC_RANKS=3 through mpirun.
SB="$top_srcdir/jobscripts/scaling.sbatch"
printf '#!/bin/sh\necho run >> "%s/dsc-calls"\nexec "%s" "$@"\n' "$J" "$DSC" > "$J/dsc-count"
chmod +x "$J/dsc-count"
direct_fails() { # DESC REGEX VAR=VALUE...: scaling.sbatch outside Slurm fails with one line, dsc never started
  _desc=$1 _re=$2; shift 2
  rm -f "$J/dsc-calls"
  env -u SLURM_NTASKS -u SLURM_JOB_ID DSC="$J/dsc-count" DSC_LAUNCHER=mpirun DSC_COMMAND=eval \
    DSC_LABELS="$J/run/labels.csv" DSC_INPUT="$D/era5_2001.nc" "$@" timeout 120 bash "$SB" > "$WORK/log" 2>&1
  _rc=$?
  if [ $_rc = 0 ] || [ "$(wc -l < "$WORK/log")" != 1 ] || ! grep -Eq "^scaling.sbatch: .*$_re" "$WORK/log" || [ -e "$J/dsc-calls" ]; then
    fail "$_desc (status $_rc; dsc started: $([ -e "$J/dsc-calls" ] && echo yes || echo no))"
  else
    pass "$_desc"
  fi
}
direct_fails "scaling.sbatch: a CSV of another command is refused before the run" "train.csv has other columns" \
  DSC_CSV="$J/train.csv" DSC_OUTPUT="$J/sc-direct"
check "... and the CSV is as it was" cmp "$J/train.before" "$J/train.csv"
printf 'a,b\n1,2\n' > "$J/other.csv"
direct_fails "scaling.sbatch: a CSV that is not a scaling CSV is refused before the run" "other.csv has other columns" \
  DSC_CSV="$J/other.csv" DSC_OUTPUT="$J/sc-direct"
direct_fails "scaling.sbatch: DSC_MODE other than strong, weak or -" "DSC_MODE must be strong, weak or - .*not 'fast'" \
  DSC_MODE=fast DSC_CSV="$J/d.csv" DSC_OUTPUT="$J/sc-direct"
direct_fails "scaling.sbatch: DSC_RANKS not a number" "DSC_RANKS must be a positive integer" \
  DSC_RANKS=0 DSC_CSV="$J/d.csv" DSC_OUTPUT="$J/sc-direct"
direct_fails "scaling.sbatch: a DSC_WORKDIR that does not exist is named" "DSC_WORKDIR=$J/nowork does not exist" \
  DSC_WORKDIR="$J/nowork" DSC_CSV="$J/d.csv"
direct_fails "scaling.sbatch: the missing folder of DSC_CSV is named" "folder $J/nocsv of DSC_CSV=.* does not exist" \
  DSC_CSV="$J/nocsv/d.csv" DSC_OUTPUT="$J/sc-direct"
check "... no CSV and no output folder were made by the refused runs" sh -c "test ! -e '$J/d.csv' && test ! -e '$J/sc-direct'"
check "scaling.sbatch outside Slurm: mpirun with DSC_RANKS=3" env -u SLURM_NTASKS -u SLURM_JOB_ID DSC="$DSC" \
  DSC_LAUNCHER=mpirun DSC_RANKS=3 OMPI_MCA_rmaps_base_oversubscribe=1 DSC_COMMAND=eval DSC_MODE=strong \
  DSC_LABELS="$J/run/labels.csv" DSC_INPUT="$D/era5_2001.nc $D/era5_2002.nc" DSC_CSV="$J/r3.csv" DSC_OUTPUT="$J/r3" \
  timeout 120 bash "$SB"
check "... the row says 3 ranks, as eval.json does" sh -c \
  "grep -q '\"ranks\": 3,' '$J/r3/eval.json' && awk -F, 'NR == 2 { ok = \$2 == \"eval\" && \$3 == 3 } END { exit !ok }' '$J/r3.csv'"
: > "$WORK/log"
if bash "$SCALING" --mode weak --ranks 1,4 --csv "$J/w.csv" --outdir "$J/sc-w" "$D/era5_2001.nc" "$D/era5_2002.nc" \
   > "$WORK/log" 2>&1; then
  fail "scaling.sh: weak scaling past the number of files is refused"
elif grep -q "needs 4 input files, got 2" "$WORK/log" && [ ! -e "$J/w.csv" ] && ! ls "$J"/sc-w/*.out > /dev/null 2>&1; then
  pass "scaling.sh: weak scaling past the number of files is refused, no job submitted"
else
  fail "scaling.sh: weak scaling past the number of files is refused, no job submitted"
fi
: > "$WORK/log"
if bash "$SCALING" --csv > "$WORK/log" 2>&1; then fail "scaling.sh --csv without a value"
elif grep -q "^scaling.sh: option --csv needs a value" "$WORK/log" && grep -q "^usage: scaling.sh " "$WORK/log"; then
  pass "scaling.sh --csv without a value: what is missing and the usage line"
else fail "scaling.sh --csv without a value: what is missing and the usage line"; fi
if bash "$SCALING" --outdir "$J/noparent/runs" --csv "$J/np.csv" "$D/era5_2001.nc" > "$WORK/log" 2>&1; then
  fail "scaling.sh --outdir in a missing folder"
elif grep -q "the folder $J/noparent does not exist" "$WORK/log" && [ ! -e "$J/noparent" ] && [ ! -e "$J/np.csv" ]; then
  pass "scaling.sh --outdir in a missing folder: named, nothing made, no job"
else fail "scaling.sh --outdir in a missing folder: named, nothing made, no job"; fi
tap_done
