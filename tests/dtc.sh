#!/bin/sh
# dtc.sh - dsc train --variant dtc (the DTC baseline, doc/baselines.md) end to
# end on a small dsc synth set: the same run on 1 and 3 ranks (parameters
# after the pre-training within 1e-4, labels equal), consistent outputs with
# a latent of ceil(d/P) positions, dsc predict and dsc eval on its
# model.ckpt, stop on SIGUSR1 and --resume with exactly the labels and
# parameters of an uninterrupted run (and a resume with another pooling size
# refused), and bad options (one error line, nothing written).
. ./tests/testenv.sh

"$PYTHON" -c 'import netCDF4, numpy' 2>/dev/null || skip_all "netCDF4 or numpy is not available to $PYTHON"
CHECK="$top_srcdir/tests/train_check.py"
D="$WORK/data"
FILES="$D/era5_2001.nc"
check "dsc synth: one year on a 12x10 grid (padded to 16x16), 4 regimes" "$DSC" synth -q -o "$D" --years 2001-2001 \
  --grid 12x10 --resolution 1 --regimes 4
# d = 7 x 16 x 16 = 1792 values per time step, pool 10: 180 latent positions
DTC="--variant dtc -k 4 --dtc-filters 8 --dtc-lstm 8,1 --batch 16 --update-interval 5 --tol 0 --kmeans-init 3 --truth $D/truth.csv"
for np in 1 3; do
  check "24 pre-training steps of DTC on $np rank(s)" run_np $np "$DSC" train $DTC --pretrain-epochs 1 --max-iter 0 -q -o "$WORK/p$np" $FILES
  check "DTC on $np rank(s): 2 pre-training epochs, 20 joint steps, replicas checked" run_np $np "$DSC" train $DTC \
    --pretrain-epochs 2 --max-iter 20 --check-replicas -q -o "$WORK/r$np" $FILES
done
check "parameters after 24 steps at 1 and 3 ranks within 1e-4 relative" "$PYTHON" "$CHECK" params "$WORK/p1/model.ckpt" "$WORK/p3/model.ckpt" 1e-4
check "labels at 1 and 3 ranks are the same" "$PYTHON" "$CHECK" labels "$WORK/r1/labels.csv" "$WORK/r3/labels.csv" 1.0
check "outputs: labels, q, latent, centroids, composites, metrics.json agree" "$PYTHON" "$CHECK" outputs "$WORK/r3" 365 4
check "latent.nc and centroids.nc: 180 = ceil(1792 / 10) positions x 1 unit" "$PYTHON" -c "
import sys, netCDF4
z = netCDF4.Dataset(sys.argv[1] + '/latent.nc').variables['z']
c = netCDF4.Dataset(sys.argv[1] + '/centroids.nc').variables['centroid']
sys.exit(not (z.shape == (365, 180) and c.shape == (4, 180)))" "$WORK/r3"
check "metrics.json names the variant" grep -q '"variant": "dtc"' "$WORK/r3/metrics.json"
check "DTC without pre-training on 1 rank" run_np 1 "$DSC" train $DTC --pretrain-epochs 0 --max-iter 20 -q -o "$WORK/r0" $FILES
check "the pre-training lowered the reconstruction loss (first joint steps with and without it)" "$PYTHON" -c "
import json, sys
rec = [[e['rec_loss'] for e in json.load(open(d + '/metrics.json'))['history'] if e['rec_loss'] is not None] for d in sys.argv[1:]]
sys.exit(not (rec[0] and rec[1] and rec[0][0] < rec[1][0]))" "$WORK/r1" "$WORK/r0"
check "dsc predict with the DTC model.ckpt gives the training labels" sh -c \
  "$(echo "$TESTMPIRUN" | sed s/NP/2/) '$DSC' predict -q -m '$WORK/r3/model.ckpt' -o '$WORK/pred' $FILES && cmp '$WORK/r3/labels.csv' '$WORK/pred/labels.csv'"
check "dsc eval --metric-space latent reads the DTC model.ckpt" run_np 2 "$DSC" eval --metric-space latent \
  --model "$WORK/r3/model.ckpt" --labels "$WORK/r3/labels.csv" -o "$WORK/l.json" $FILES
# Stop on SIGUSR1 and resume: exactly the labels and parameters of the uninterrupted run.
LONG="$DTC --pretrain-epochs 1 --max-iter 100 --update-interval 20"
check "uninterrupted DTC run (2 ranks, 100 joint steps)" run_np 2 "$DSC" train $LONG -q -o "$WORK/u" $FILES
stop_when "$WORK/stop.log" '^step  *[2-9][0-9]/' USR1 $(echo "$TESTMPIRUN" | sed s/NP/2/) "$DSC" train $LONG -v -o "$WORK/s" $FILES
rc=$stop_rc
if [ $rc -eq 3 ] && [ -s "$WORK/s/checkpoint.ckpt" ] && [ ! -e "$WORK/s/labels.csv" ]; then
  pass "SIGUSR1 stops DTC training: exit status 3, checkpoint written, no labels yet"
else
  cat "$WORK/stop.log" > "$WORK/log"; fail "SIGUSR1 stops DTC training: exit status $rc (expected 3)"
fi
expect_error "--resume with another DTC pooling size" "option --dtc-pool 5 would change the run \\(its config.txt: 10\\)" \
  run_np 2 "$DSC" train --resume "$WORK/s" --dtc-pool 5
check "--resume ends with exactly the labels and parameters of the uninterrupted run" sh -c \
  "$(echo "$TESTMPIRUN" | sed s/NP/2/) '$DSC' train --resume '$WORK/s' -q && cmp '$WORK/u/labels.csv' '$WORK/s/labels.csv' \
   && '$PYTHON' '$CHECK' params '$WORK/u/model.ckpt' '$WORK/s/model.ckpt' 0"
expect_error "--variant dtc with --steps 2" "option --steps 2: --variant dtc reads one time step" \
  run_np 2 "$DSC" train $DTC --steps 2 -o "$WORK/b1" $FILES
check "... and no output folder was made" test ! -e "$WORK/b1"
expect_error "--dtc-pool 0" "option --dtc-pool: 0 is outside" run_np 2 "$DSC" train $DTC --dtc-pool 0 -o "$WORK/b2" $FILES
expect_error "--dtc-lstm with one size" "option --dtc-lstm: '8' is not 2 positive integers" \
  run_np 2 "$DSC" train $DTC --dtc-lstm 8 -o "$WORK/b3" $FILES
check "... and no output folder was made" sh -c "test ! -e '$WORK/b2' && test ! -e '$WORK/b3'"
tap_done
