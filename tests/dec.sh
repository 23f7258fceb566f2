#!/bin/sh
# dec.sh - dsc train --variant dec (DEC: the dense autoencoder of
# src/nn/model_dec.c) end to end on a small dsc synth data set on a 12 x 10
# grid (no multiple of 16): the outputs, the same labels on 1 and 3 ranks,
# the real grid and the paper's default widths in model.ckpt, the decoder
# left alone in joint training, a run stopped by a fault resumed from its
# periodic checkpoint to the labels of the uninterrupted run, dsc predict
# and dsc eval with the model, and bad input.
. ./tests/testenv.sh

"$PYTHON" -c 'import netCDF4, numpy' 2>/dev/null || skip_all "netCDF4 or numpy is not available to $PYTHON"
CHECK="$top_srcdir/tests/train_check.py"
DCHECK="$top_srcdir/tests/dec_check.py"
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
D="$WORK/data"
FILES="$D/era5_2001.nc"
check "dsc synth writes one year on a 12x10 grid with 4 regimes" "$DSC" synth -q -o "$D" --years 2001-2001 --grid 12x10 --regimes 4
# 3 pre-training epochs of 23 steps, then 60 joint steps
DEC="--variant dec -k 4 --dense 32,32,64 --latent 6 --batch 16 --pretrain-epochs 3 --update-interval 20 --tol 0 --kmeans-init 3 --truth $D/truth.csv"

for np in 1 3; do
  check "dec on $np rank(s): 3 pre-training epochs, 60 joint steps, replicas checked" sh -c \
    "$(launcher $np) '$DSC' train $DEC --max-iter 60 --check-replicas -q -o '$WORK/r$np' $FILES"
done
check "outputs: labels.csv, labels.nc (q), latent.nc, centroids.nc, composites.nc, metrics.json agree" \
  "$PYTHON" "$CHECK" outputs "$WORK/r3" 365 4
check "metrics.json names the variant" grep -q '"variant": "dec"' "$WORK/r3/metrics.json"
check "labels at 1 and 3 ranks agree on >= 99% of the time steps" "$PYTHON" "$CHECK" labels "$WORK/r1/labels.csv" "$WORK/r3/labels.csv" 0.99
check "model.ckpt: variant dec on the real 12x10 grid (840 inputs), dense 32,32,64, latent 6" \
  "$PYTHON" "$DCHECK" arch "$WORK/r3/model.ckpt" 7 12 10 32 32 64 6
check "the paper's defaults without --dense and --latent: 500,500,2000 and 10, recorded in config.txt" sh -c \
  "'$DSC' train --variant dec -k 4 --batch 64 --pretrain-epochs 1 --max-iter 0 --kmeans-init 1 -q -o '$WORK/def' $FILES \
   && '$PYTHON' '$DCHECK' arch '$WORK/def/model.ckpt' 7 12 10 500 500 2000 10 && grep -q '^latent = 10$' '$WORK/def/config.txt'"

# DEC drops the decoder after pre-training: with plain SGD (no momentum, no
# decay) a parameter without gradient does not move.
SGD="--optimizer sgd --momentum 0 --lr 0.05 --joint-lr 0.05"
check "joint training leaves the decoder as pre-training left it and trains the encoder and centroids" sh -c \
  "$(launcher 2) '$DSC' train $DEC $SGD --max-iter 0 -q -o '$WORK/f0' $FILES \
   && $(launcher 2) '$DSC' train $DEC $SGD --max-iter 40 -q -o '$WORK/f40' $FILES \
   && '$PYTHON' '$DCHECK' frozen '$WORK/f0/model.ckpt' '$WORK/f40/model.ckpt'"

# A fault at global step 100 (joint step 31) stops the run; the checkpoint
# of step 90 resumes to exactly the labels of the uninterrupted run r3.
check "a run stopped at step 100 keeps its periodic checkpoint of step 90" sh -c \
  "! DSC_FAULT_NAN_STEP=100 $(launcher 3) '$DSC' train $DEC --max-iter 60 --checkpoint-every 30 -q -o '$WORK/s' $FILES 2> '$WORK/s.err' \
   && grep -q 'written after 90 steps' '$WORK/s.err' && test -s '$WORK/s/checkpoint.ckpt' && test ! -e '$WORK/s/labels.csv'"
check "--resume ends with exactly the labels of the uninterrupted run" sh -c \
  "$(launcher 3) '$DSC' train --resume '$WORK/s' -q && cmp '$WORK/r3/labels.csv' '$WORK/s/labels.csv'"

check "dsc predict with the dec model.ckpt on the training data gives the training labels" sh -c \
  "$(launcher 2) '$DSC' predict -q -m '$WORK/r3/model.ckpt' -o '$WORK/p' $FILES && cmp '$WORK/r3/labels.csv' '$WORK/p/labels.csv'"
check "dsc eval --metric-space latent reads the dec model: 6 features, the latent vectors of the run" sh -c \
  "$(launcher 2) '$DSC' eval --metric-space latent --model '$WORK/r3/model.ckpt' --labels '$WORK/r3/labels.csv' -o '$WORK/l.json' \
     --save-latent '$WORK/z.nc' $FILES > /dev/null && grep -q '\"n_features\": 6' '$WORK/l.json' \
   && '$PYTHON' -c 'import sys, netCDF4, numpy as np; a = netCDF4.Dataset(sys.argv[1])[\"z\"][:]; b = netCDF4.Dataset(sys.argv[2])[\"z\"][:]; \
sys.exit(not (a.shape == b.shape == (365, 6) and np.abs(a - b).max() <= 1e-5 * np.abs(a).max()))' '$WORK/r3/latent.nc' '$WORK/z.nc'"

# Bad input: one clear line, non-zero exit.
T2="$(launcher 2) $DSC train"
expect_error "dec with a sequence window" "option --steps 2: dec labels single time steps" $T2 $DEC --steps 2 -o "$WORK/b1" $FILES
expect_error "bad --dense" "option --dense: '32,32' is not 3 positive integers" $T2 $DEC --dense 32,32 -o "$WORK/b2" $FILES
check "dsc synth writes a year on another grid" "$DSC" synth -q -o "$WORK/other" --years 2001-2001 --grid 8x8
expect_error "dsc predict with the dec model on another grid" "r3/model.ckpt: the model was trained on a 12x10 grid .*the data have 8x8" \
  $(launcher 2) "$DSC" predict -m "$WORK/r3/model.ckpt" -o "$WORK/b3" "$WORK/other/era5_2001.nc"
check "dsc bench times dec" "$DSC" bench --variant dec --iterations 1 --warmup 0 --batch 1 --grid 16x16 --vars 2
tap_done
