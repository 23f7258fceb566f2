#!/bin/sh
# faults.sh - run-time faults of a long dsc train on 3 ranks lose nothing:
# a gradient that turns NaN on one rank stops every rank at that step with
# one error line naming it, and the last periodic checkpoint stays as it
# was; one rank killed with SIGKILL ends the job within 60 s with a non-zero
# status, and the last periodic checkpoint resumes; five signal-and-resume
# cycles in a row.  Every resumed run must end with exactly the labels.csv
# and centroids.nc of an uninterrupted run (cmp).
. ./tests/testenv.sh

launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
D="$WORK/data"
check "dsc synth writes one year on a 16x16 grid with 4 regimes and 3 variables" \
  "$DSC" synth -q -o "$D" --years 2001-2001 --grid 16x16 --regimes 4 --vars t2m,sp,u10
FILES="$D/era5_2001.nc"
# 2 pre-training epochs of 31 steps, then 140 joint steps: 202 steps in all
RUN="-k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --batch 12 --pretrain-epochs 2 --max-iter 1000 --update-interval 10 --tol 0 --kmeans-init 3"
T3="$(launcher 3) $DSC train"
check "uninterrupted reference run on 3 ranks" sh -c "$T3 $RUN -q -o '$WORK/ref' $FILES"

# start_train LOG ARGS...: dsc train on 3 ranks in the background, pid in $job
start_train() {
  _log=$1; shift
  : > "$_log"
  $T3 "$@" > "$_log" 2>&1 &
  job=$!
}
# wait_steps LOG N: until LOG holds N step lines (of --verbose); 1 when the
# job ended first or after 120 s
wait_steps() {
  _i=0
  while [ "$(grep -c ' step [0-9]*:' "$1")" -lt "$2" ]; do
    kill -0 $job 2> /dev/null || return 1
    [ $_i -lt 1200 ] || return 1
    sleep 0.1; _i=$((_i + 1))
  done
}
# wait_end SECONDS: waits for $job, its status in $rc; 1 when it was still
# running after SECONDS (then it and its ranks are killed)
wait_end() {
  _i=0
  while kill -0 $job 2> /dev/null; do
    if [ $_i -ge $(($1 * 10)) ]; then
      for _p in $(ps -o pid= --ppid $job); do kill -KILL "$_p"; done
      kill -KILL $job; wait $job; rc=timeout; return 1
    fi
    sleep 0.1; _i=$((_i + 1))
  done
  wait $job; rc=$?
}
resumed_at() { sed -n 's/^dsc train: resuming .* at step \([0-9]*\)$/\1/p' "$1"; }

# ---- NaN: one rank's gradient poisoned at global step 80 (joint step 18);
# the allreduce spreads it, the norm check stops every rank at that step.
# Checkpoints every 25 steps: the one after 75 steps must stay.
expect_error "a NaN gradient on rank 2 stops every rank at that step, naming it and the intact checkpoint" \
  "gradient is not finite at joint step 18 \(global step 80\).*nan/checkpoint.ckpt, written after 75 steps, is left as it was" \
  env DSC_FAULT_NAN_STEP=80 DSC_FAULT_NAN_RANK=2 $T3 $RUN --checkpoint-every 25 -o "$WORK/nan" $FILES
check "the diverged run left no labels" test ! -e "$WORK/nan/labels.csv"
check "its checkpoint (75 steps) resumes and ends with the labels and centroids of the uninterrupted run" sh -c \
  "$T3 --resume '$WORK/nan' > '$WORK/nan.log' 2>&1 && grep -q 'resuming .* at step 75\$' '$WORK/nan.log' && \
   cmp '$WORK/ref/labels.csv' '$WORK/nan/labels.csv' && cmp '$WORK/ref/centroids.nc' '$WORK/nan/centroids.nc'"
expect_error "DSC_FAULT_NAN_STEP that is not a step number" "DSC_FAULT_NAN_STEP: 'soon' is not a step number" \
  env DSC_FAULT_NAN_STEP=soon $T3 $RUN -o "$WORK/nan2" $FILES

# ---- SIGKILL of one rank after the checkpoint of step 40 (every 20 steps)
start_train "$WORK/kill.log" $RUN --checkpoint-every 20 -v -o "$WORK/kill" $FILES
if wait_steps "$WORK/kill.log" 50; then
  victim=$(ps -o pid= --ppid $job | tail -n 1)
  kill -KILL $victim
  if wait_end 60; then pass "SIGKILL of one of 3 ranks: the job ended within 60 s"
  else fail "SIGKILL of one of 3 ranks: the job still ran after 60 s"; fi
  if [ "$rc" != timeout ] && [ "$rc" -ne 0 ]; then pass "the job's exit status is non-zero ($rc)"
  else fail "the job's exit status is $rc"; fi
else
  wait_end 60; cp "$WORK/kill.log" "$WORK/log"; fail "the run to kill did not reach 50 steps (status $rc)"
fi
check "no labels were written by the killed run" test ! -e "$WORK/kill/labels.csv"
# what a kill during the write of a checkpoint leaves: the temporary file
# (the complete one stays), which --resume removes
head -c 1000 "$WORK/kill/checkpoint.ckpt" > "$WORK/kill/checkpoint.ckpt.tmp.99999"
check "its last periodic checkpoint (40 steps or later) resumes and ends with the uninterrupted labels and centroids" sh -c \
  "$T3 --resume '$WORK/kill' > '$WORK/kill2.log' 2>&1 && s=\$(sed -n 's/^dsc train: resuming .* at step //p' '$WORK/kill2.log') \
   && [ \$((s % 20)) -eq 0 ] && [ \$s -ge 40 ] && cmp '$WORK/ref/labels.csv' '$WORK/kill/labels.csv' \
   && cmp '$WORK/ref/centroids.nc' '$WORK/kill/centroids.nc'"
check "--resume removed the half-written checkpoint.ckpt.tmp.99999" test ! -e "$WORK/kill/checkpoint.ckpt.tmp.99999"

# ---- five cycles: SIGUSR1 to mpirun (odd cycles) or SIGTERM to every rank
# (even cycles) after 20 more steps, then --resume
C="$WORK/cyc"
start_train "$WORK/c0.log" $RUN -v -o "$C" $FILES
last=0
for i in 1 2 3 4 5; do
  if ! wait_steps "$WORK/c$((i - 1)).log" 20; then
    wait_end 60; cp "$WORK/c$((i - 1)).log" "$WORK/log"; fail "cycle $i: the run ended (status $rc) before 20 steps"; break
  fi
  if [ $((i % 2)) = 1 ]; then kill -USR1 $job; sig="SIGUSR1 to mpirun"
  else for p in $(ps -o pid= --ppid $job); do kill -TERM "$p"; done; sig="SIGTERM to every rank"; fi
  wait_end 60
  start_train "$WORK/c$i.log" --resume "$C" -v
  wait_steps "$WORK/c$i.log" 1
  at=$(resumed_at "$WORK/c$i.log")
  if [ "$rc" = 3 ] && [ -n "$at" ] && [ "$at" -gt "$last" ] && [ ! -e "$C/labels.csv" ]; then
    pass "cycle $i ($sig): exit status 3, resumed at step $at"
  else
    cat "$WORK/c$((i - 1)).log" "$WORK/c$i.log" > "$WORK/log"; fail "cycle $i ($sig): exit status $rc, resumed at step '$at' (before: $last)"
  fi
  last=${at:-$last}
done
wait_end 300
check "after five signal-and-resume cycles: exit status 0 and exactly the uninterrupted labels and centroids" \
  sh -c "[ '$rc' = 0 ] && cmp '$WORK/ref/labels.csv' '$C/labels.csv' && cmp '$WORK/ref/centroids.nc' '$C/centroids.nc'"
tap_done
