#!/bin/sh
# train.sh - dsc train end to end on a small dsc synth data set and a small
# network: outputs and their consistency, the same run on 1, 2 and 3 ranks
# (parameters within 1e-4, labels on >= 99% of the time steps), the same
# rank count twice bitwise, replicas bitwise identical, stop on a signal
# and --resume ending with exactly the labels of an uninterrupted run,
# dsc predict and dsc eval on the run's outputs, the model's inputs matched
# by name and checked (units, grid; a run stopped in pre-training refused),
# the encoder-only variant, a sequence window (also across a missing year),
# --config, a batch smaller than the ranks, and bad input (one error line,
# exit != 0, nothing overwritten; a batch above the samples).
. ./tests/testenv.sh

"$PYTHON" -c 'import netCDF4, numpy' 2>/dev/null || skip_all "netCDF4 or numpy is not available to $PYTHON"
CHECK="$top_srcdir/tests/train_check.py"
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
D="$WORK/data"
check "dsc synth writes one year on a 16x16 grid with 4 regimes" "$DSC" synth -q -o "$D" --years 2001-2001 --grid 16x16 --regimes 4
SMALL="-k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --batch 12 --pretrain-epochs 4 --update-interval 10 --tol 0 --kmeans-init 5 --truth $D/truth.csv"
FILES="$D/era5_2001.nc"

# 21 pre-training steps (batch 18) and the k-means initialisation: the
# parameters after 20 steps of the issue's requirement; then a longer run
# with joint training for the labels.
for np in 1 2 3; do
  check "21 data-parallel steps on $np rank(s)" sh -c \
    "$(launcher $np) '$DSC' train $SMALL --batch 18 --pretrain-epochs 1 --max-iter 0 -q -o '$WORK/p$np' $FILES"
  check "train on $np rank(s): 4 pre-training epochs, 20 joint steps, replicas checked" sh -c \
    "$(launcher $np) '$DSC' train $SMALL --max-iter 20 --check-replicas -o '$WORK/r$np' $FILES"
done
check "outputs: labels.csv, labels.nc (q), latent.nc, centroids.nc, composites.nc, metrics.json agree" \
  "$PYTHON" "$CHECK" outputs "$WORK/r2" 365 4
check "metrics.json has ARI and NMI against --truth" grep -q '"nmi": ' "$WORK/r2/metrics.json"
check "config.txt holds the effective options and inputs" sh -c \
  "grep -q '^clusters = 4' '$WORK/r2/config.txt' && grep -q '^input = .*era5_2001.nc' '$WORK/r2/config.txt'"
check "no checkpoint.ckpt is left after a finished run" test ! -e "$WORK/r2/checkpoint.ckpt"
for np in 2 3; do
  check "parameters after 21 steps at 1 and $np ranks within 1e-4 relative" "$PYTHON" "$CHECK" params "$WORK/p1/model.ckpt" "$WORK/p$np/model.ckpt" 1e-4
  check "parameters after 144 steps at 1 and $np ranks within 1e-2 relative" "$PYTHON" "$CHECK" params "$WORK/r1/model.ckpt" "$WORK/r$np/model.ckpt" 1e-2
  check "labels at 1 and $np ranks agree on >= 99% of the time steps" "$PYTHON" "$CHECK" labels "$WORK/r1/labels.csv" "$WORK/r$np/labels.csv" 0.99
done
check "the same run on 2 ranks twice: model.ckpt and labels bitwise identical" sh -c \
  "$(launcher 2) '$DSC' train $SMALL --max-iter 20 -q -o '$WORK/r2b' $FILES \
   && cmp '$WORK/r2/model.ckpt' '$WORK/r2b/model.ckpt' && cmp '$WORK/r2/labels.csv' '$WORK/r2b/labels.csv'"

# dsc eval on the run's labels gives the run's metrics; dsc predict on the
# training data gives the run's labels; the latent space of the model.
check "dsc eval --labels labels.csv reproduces metrics.json" sh -c \
  "$(launcher 2) '$DSC' eval --labels '$WORK/r2/labels.csv' --truth '$D/truth.csv' -o '$WORK/e.json' $FILES > /dev/null \
   && '$PYTHON' '$CHECK' eval '$WORK/r2/metrics.json' '$WORK/e.json'"
check "dsc predict with model.ckpt on the training data gives the training labels" sh -c \
  "$(launcher 3) '$DSC' predict -q -m '$WORK/r2/model.ckpt' -o '$WORK/p' $FILES && cmp '$WORK/r2/labels.csv' '$WORK/p/labels.csv'"
check "dsc eval --metric-space latent reads model.ckpt" sh -c \
  "$(launcher 2) '$DSC' eval --metric-space latent --model '$WORK/r2/model.ckpt' --labels '$WORK/r2/labels.csv' -o '$WORK/l.json' $FILES > /dev/null \
   && grep -q '\"n_features\": 8' '$WORK/l.json'"

# The model's inputs: dsc predict and dsc eval --model match the variables
# by name (any order of --vars or of the file), check units and grid, warn
# about a model of an older dsc (matched by position), and refuse a run
# stopped during pre-training.  A tiny model on t2m and sp, trained with
# --vars t2m,sp: the file holds sp before t2m.
check "dsc synth writes one year of sp and t2m on a 12x10 grid" "$DSC" synth -q -o "$WORK/iv" --years 2001-2001 --grid 12x10 --regimes 4 --vars t2m,sp
IV="$WORK/iv/era5_2001.nc"
TINY="-k 3 --conv 4,4,4,4,4 --lstm 8,8 --latent 4 --batch 32 --pretrain-epochs 2 --max-iter 20 --update-interval 10 --kmeans-init 2"
check "a tiny model trained on --vars t2m,sp" "$DSC" train -q $TINY --vars t2m,sp -o "$WORK/ivr" "$IV"
check "a copy of the data with the variables in the other order (t2m, sp)" "$PYTHON" "$CHECK" copy "$IV" "$WORK/iv_rev.nc" reverse
check "a copy whose sp is in hPa" "$PYTHON" "$CHECK" copy "$IV" "$WORK/iv_hpa.nc" units sp hPa
check "dsc synth writes the same grid size at other coordinates (0.3 degrees)" "$DSC" synth -q -o "$WORK/iv3" --years 2001-2001 --grid 12x10 --resolution 0.3 --regimes 4 --vars t2m,sp
check "dsc synth writes t2m and u10 (no sp)" "$DSC" synth -q -o "$WORK/ivu" --years 2001-2001 --grid 12x10 --regimes 4 --vars t2m,u10
for np in 1 3; do
  check "predict, $np rank(s): --vars t2m,sp, --vars sp,t2m, no --vars and a file in the other order give the training labels" sh -c \
    "$(launcher $np) '$DSC' predict -q -m '$WORK/ivr/model.ckpt' --vars t2m,sp -o '$WORK/ivp$np.a' '$IV' \
     && $(launcher $np) '$DSC' predict -q -m '$WORK/ivr/model.ckpt' --vars sp,t2m -o '$WORK/ivp$np.b' '$IV' \
     && $(launcher $np) '$DSC' predict -q -m '$WORK/ivr/model.ckpt' -o '$WORK/ivp$np.c' '$IV' \
     && $(launcher $np) '$DSC' predict -q -m '$WORK/ivr/model.ckpt' -o '$WORK/ivp$np.d' '$WORK/iv_rev.nc' \
     && for x in a b c d; do cmp '$WORK/ivr/labels.csv' '$WORK/ivp$np.'\$x/labels.csv || exit 1; done"
  check "eval --metric-space latent, $np rank(s): the same silhouettes with --vars t2m,sp and sp,t2m" sh -c \
    "$(launcher $np) '$DSC' eval --metric-space latent --model '$WORK/ivr/model.ckpt' --vars t2m,sp -l '$WORK/ivr/labels.csv' -o '$WORK/ive$np.a.json' '$IV' > /dev/null \
     && $(launcher $np) '$DSC' eval --metric-space latent --model '$WORK/ivr/model.ckpt' --vars sp,t2m -l '$WORK/ivr/labels.csv' -o '$WORK/ive$np.b.json' '$IV' > /dev/null \
     && '$PYTHON' '$CHECK' same-metrics '$WORK/ive$np.a.json' '$WORK/ive$np.b.json'"
done
P2="$(launcher 2) $DSC predict -q -m $WORK/ivr/model.ckpt"
expect_error "predict: --vars without one of the model's variables" "ivr/model.ckpt: the model takes the variables t2m, sp; --vars leaves out 'sp'" \
  $P2 --vars t2m -o "$WORK/ivx1" "$IV"
expect_error "predict: --vars with a variable the model does not take" "ivr/model.ckpt: .*--vars gives 'u10', which is not one of them" \
  $P2 --vars t2m,sp,u10 -o "$WORK/ivx2" "$IV"
expect_error "predict: data without one of the model's variables" "ivr/model.ckpt: the model takes the variables t2m, sp, but the data have no 'sp'" \
  $P2 -o "$WORK/ivx3" "$WORK/ivu/era5_2001.nc"
expect_error "predict: the same grid size at other coordinates" "ivr/model.ckpt: latitude 1 of the data is 44.7, the model's is 44.75" \
  $P2 -o "$WORK/ivx4" "$WORK/iv3/era5_2001.nc"
expect_error "predict: another grid size" "ivr/model.ckpt: the model was trained on a 12x10 grid .*the data have 5x5; select the model's area with --box" \
  $P2 --box 44,45,-30,-29 -o "$WORK/ivx5" "$IV"
expect_error "predict: other units" "ivr/model.ckpt: variable 'sp' is in hPa in the data .* but the model was trained on Pa" \
  $P2 -o "$WORK/ivx6" "$WORK/iv_hpa.nc"
expect_error "eval --model: the same grid size at other coordinates" "ivr/model.ckpt: latitude 1 of the data is 44.7" \
  $(launcher 2) "$DSC" eval --metric-space latent --model "$WORK/ivr/model.ckpt" -l "$WORK/ivr/labels.csv" -o "$WORK/ivx7.json" "$WORK/iv3/era5_2001.nc"
check "no outputs after the errors" sh -c "! ls '$WORK'/ivx*/labels.csv '$WORK/ivx7.json' 2> /dev/null"
check "a model as an older dsc wrote it (statistics without the inputs)" "$PYTHON" "$CHECK" strip-inputs "$WORK/ivr/model.ckpt" "$WORK/iv_old.ckpt"
check "predict with an older model: one warning (variables by position), the training labels with --vars in training order" sh -c \
  "$(launcher 2) '$DSC' predict -q -m '$WORK/iv_old.ckpt' --vars t2m,sp -o '$WORK/ivo' '$IV' 2> '$WORK/ivo.err' \
   && [ \$(grep -c 'matched to it by position' '$WORK/ivo.err') = 1 ] && cmp '$WORK/ivr/labels.csv' '$WORK/ivo/labels.csv'"
# a run stopped by SIGTERM during pre-training: its checkpoint has no centroids
stop_when "$WORK/ivs.log" '^pre-training epoch' TERM "$DSC" train $TINY --pretrain-epochs 100000 -o "$WORK/ivs" "$IV"
_rc=$stop_rc
if [ $_rc -eq 3 ] && [ -s "$WORK/ivs/checkpoint.ckpt" ]; then pass "a run stopped during pre-training: exit status 3, checkpoint written"
else cp "$WORK/ivs.log" "$WORK/log"; fail "a run stopped during pre-training: exit status $_rc (expected 3)"; fi
expect_error "predict refuses a checkpoint of pre-training" "ivs/checkpoint.ckpt: the run was stopped during pre-training .*dsc train --resume" \
  $(launcher 2) "$DSC" predict -m "$WORK/ivs/checkpoint.ckpt" -o "$WORK/ivx8" "$IV"
expect_error "eval --model refuses a checkpoint of pre-training" "ivs/checkpoint.ckpt: the run was stopped during pre-training" \
  $(launcher 2) "$DSC" eval --metric-space latent --model "$WORK/ivs/checkpoint.ckpt" -l "$WORK/ivr/labels.csv" -o "$WORK/ivx9.json" "$IV"

# Stop on a signal, resume: exactly the labels and parameters of an
# uninterrupted run with the same rank count.
LONG="$SMALL --max-iter 300 --update-interval 20"
check "uninterrupted reference run (2 ranks, 300 joint steps)" sh -c "$(launcher 2) '$DSC' train $LONG -q -o '$WORK/u' $FILES"
stop_and_resume() { # DESC NP SIGNAL DIR
  _np=$2; _sig=$3; _dir=$4
  _run=""
  [ "$_np" = 0 ] || _run=$(launcher "$_np")
  stop_when "$WORK/stop.log" '^step  *[2-9][0-9]/' "$_sig" $_run "$DSC" train $LONG -o "$_dir" $FILES
  _rc=$stop_rc
  if [ $_rc -eq 3 ] && [ -s "$_dir/checkpoint.ckpt" ] && [ ! -e "$_dir/labels.csv" ]; then
    pass "$1: exit status 3, checkpoint written, no labels yet"
  else
    cat "$WORK/stop.log" > "$WORK/log"; fail "$1: exit status $_rc (expected 3)"
  fi
}
stop_and_resume "SIGUSR1 to mpirun (2 ranks)" 2 USR1 "$WORK/s"
check "--resume ends with exactly the labels and parameters of the uninterrupted run" sh -c \
  "$(launcher 2) '$DSC' train --resume '$WORK/s' -q && cmp '$WORK/u/labels.csv' '$WORK/s/labels.csv' \
   && '$PYTHON' '$CHECK' params '$WORK/u/model.ckpt' '$WORK/s/model.ckpt' 0"
check "uninterrupted reference run (3 ranks)" sh -c "$(launcher 3) '$DSC' train $LONG -q -o '$WORK/u3' $FILES"
stop_and_resume "SIGUSR1 to mpirun (3 ranks)" 3 USR1 "$WORK/s3"
check "--resume on 3 ranks: exactly the labels of the uninterrupted run" sh -c \
  "$(launcher 3) '$DSC' train --resume '$WORK/s3' -q && cmp '$WORK/u3/labels.csv' '$WORK/s3/labels.csv'"
check "uninterrupted reference run (1 rank)" sh -c "'$DSC' train $LONG -q -o '$WORK/u1' $FILES"
stop_and_resume "SIGTERM to a single rank" 0 TERM "$WORK/s1"
check "--resume after SIGTERM: the same labels as the uninterrupted run" sh -c \
  "'$DSC' train --resume '$WORK/s1' -q && cmp '$WORK/u1/labels.csv' '$WORK/s1/labels.csv'"

# Variants and options
check "cnn-encoder variant (no decoder) trains on the clustering loss alone" sh -c \
  "$(launcher 2) '$DSC' train $SMALL --variant cnn-encoder --pretrain-epochs 0 --max-iter 20 -q -o '$WORK/enc' $FILES \
   && '$PYTHON' '$CHECK' outputs '$WORK/enc' 365 4"
check "a sequence window of 3 days (--steps 3) on 3 ranks" sh -c \
  "$(launcher 3) '$DSC' train $SMALL --steps 3 --max-iter 10 -q -o '$WORK/seq' $FILES && '$PYTHON' '$CHECK' outputs '$WORK/seq' 365 4"
# a record with a missing year (2002): the windows of the first days of
# 2003 stay in 2003 (repeating 1 January) instead of reaching back to the
# end of 2001, so 2003 gets the latents it gets alone
check "dsc synth writes 2003 (2002 left out)" "$DSC" synth -q -o "$WORK/y3" --years 2003-2003 --grid 16x16 --regimes 4
check "--steps 3 across a missing year: 2003 after 2001 gets the latents of 2003 alone" sh -c \
  "$(launcher 2) '$DSC' predict -q -m '$WORK/seq/model.ckpt' -o '$WORK/gap' $FILES '$WORK/y3/era5_2003.nc' 2> /dev/null \
   && '$DSC' predict -q -m '$WORK/seq/model.ckpt' -o '$WORK/gap3' '$WORK/y3/era5_2003.nc' \
   && '$PYTHON' '$CHECK' latent '$WORK/gap/latent.nc' '$WORK/gap3/latent.nc' 365 1e-5"
# ... but with --daily-mean of 6-hourly steps the days follow each other
# without a gap: a record cut to start on 5 January differs from the whole
# year in its first two windows only
check "dsc synth writes 6-hourly steps" "$DSC" synth -q -o "$WORK/y6" --years 2003-2003 --grid 16x16 --regimes 4 --steps-per-day 4
check "--steps 3 with --daily-mean: windows span consecutive days" sh -c \
  "'$DSC' predict -q --daily-mean -m '$WORK/seq/model.ckpt' -o '$WORK/dm' '$WORK/y6/era5_2003.nc' \
   && '$DSC' predict -q --daily-mean --time-range 2003-01-05/ -m '$WORK/seq/model.ckpt' -o '$WORK/dm5' '$WORK/y6/era5_2003.nc' \
   && '$PYTHON' '$CHECK' latent '$WORK/dm/latent.nc' '$WORK/dm5/latent.nc' 4 1e-5 2"
printf 'clusters = 3\nmax-iter = 10\n# a comment\nlatent = 6\ninput = %s\n' "$FILES" > "$WORK/c.cfg"
check "--config FILE: options and inputs from the file, the command line wins" sh -c \
  "$(launcher 2) '$DSC' train --conv 4,4,8,8,16 --lstm 16,16 --pretrain-epochs 4 --kmeans-init 2 --config '$WORK/c.cfg' --latent 5 -q -o '$WORK/cfg' \
   && grep -q '^clusters = 3' '$WORK/cfg/config.txt' && grep -q '^latent = 5' '$WORK/cfg/config.txt' \
   && '$PYTHON' '$CHECK' outputs '$WORK/cfg' 365 3"
check "dsc kmeans: the same labels on 1 and 3 ranks" sh -c \
  "$(launcher 1) '$DSC' kmeans -q -k 4 --truth '$D/truth.csv' -o '$WORK/k1' $FILES \
   && $(launcher 3) '$DSC' kmeans -q -k 4 --truth '$D/truth.csv' -o '$WORK/k3' $FILES && cmp '$WORK/k1/labels.csv' '$WORK/k3/labels.csv'"

# --pretrain-epochs auto (the default): 20 epochs, or enough for 96,000
# samples on a short record (tests/test_schedule has the rule); here 1 year
# on an 8 x 8 grid in one step per epoch, to keep those samples cheap.
check "dsc synth writes one year on an 8x8 grid" "$DSC" synth -q -o "$WORK/d8" --years 2001-2001 --grid 8x8 --regimes 4
check "auto pre-training on 365 days: 264 epochs (96,360 samples), reported, one loss per epoch, config.txt says auto" sh -c \
  "$(launcher 2) '$DSC' train -k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --batch 365 --max-iter 0 --kmeans-init 2 \
     -o '$WORK/auto' '$WORK/d8/era5_2001.nc' > '$WORK/auto.out' \
   && grep -q 'pre-training 264 epochs, 1 step of batch 365 each (--pretrain-epochs auto)' '$WORK/auto.out' \
   && '$PYTHON' '$CHECK' pretrain '$WORK/auto/metrics.json' 264 && grep -q '^pretrain-epochs = auto' '$WORK/auto/config.txt'"
# a global batch smaller than the ranks: the idle rank is named once, and
# the run is the one-rank run
check "--batch 2 on 3 ranks: one warning, the parameters of the one-rank run" sh -c \
  "$(launcher 3) '$DSC' train -q -k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --batch 2 --pretrain-epochs 1 --max-iter 0 \
     --kmeans-init 2 -o '$WORK/b2r3' '$WORK/d8/era5_2001.nc' 2> '$WORK/b2r3.err' \
   && test \"\$(grep -c 'warning: --batch 2 on 3 ranks: 1 rank gets no sample' '$WORK/b2r3.err')\" = 1 \
   && '$DSC' train -q -k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --batch 2 --pretrain-epochs 1 --max-iter 0 \
     --kmeans-init 2 -o '$WORK/b2r1' '$WORK/d8/era5_2001.nc' \
   && '$PYTHON' '$CHECK' params '$WORK/b2r1/model.ckpt' '$WORK/b2r3/model.ckpt' 1e-4"

# Bad input: one clear line, non-zero exit, nothing overwritten.
T2="$(launcher 2) $DSC train"
expect_error "-k 1" "option --clusters: 1 is outside" $T2 $SMALL -k 1 -o "$WORK/b1" $FILES
expect_error "-k >= time steps" "-k 365 clusters for 365 time steps" $T2 $SMALL -k 365 -o "$WORK/b2" $FILES
expect_error "--batch above the samples" "option --batch: 366 is more than the 365 samples .*give --batch 365 or less" \
  $T2 $SMALL --batch 366 -o "$WORK/b7" $FILES
expect_error "--batch above the samples at 3 ranks" "option --batch: 100000 is more than the 365 samples" \
  $(launcher 3) "$DSC" train $SMALL --batch 100000 -o "$WORK/b8" $FILES
expect_error "unknown variant" "option --variant: 'dec2'" $T2 $SMALL --variant dec2 -o "$WORK/b3" $FILES
expect_error "unknown optimizer" "sgdx" $T2 $SMALL --optimizer sgdx -o "$WORK/b4" $FILES
expect_error "bad --conv" "option --conv: '4,4' is not 5 positive integers" $T2 $SMALL --conv 4,4 -o "$WORK/b5" $FILES
expect_error "bad --pretrain-epochs" "option --pretrain-epochs: 'often' is not auto or an integer" $T2 $SMALL --pretrain-epochs often -o "$WORK/b6" $FILES
expect_error "no -o" "option -o DIR is required" $T2 $SMALL $FILES
sum_before=$(cat "$WORK/r2"/* | cksum)
expect_error "non-empty output folder without --force" "output folder .*r2 is not empty" $T2 $SMALL -o "$WORK/r2" $FILES
check "nothing in the existing folder was overwritten" test "$(cat "$WORK/r2"/* | cksum)" = "$sum_before"
expect_error "output folder holding the inputs" "holds the input file" $T2 $SMALL --force -o "$D" $FILES
check "dsc synth writes another year" "$DSC" synth -q -o "$WORK/other" --years 2002-2002 --grid 16x16 --regimes 4
stop_and_resume "a stopped run to resume badly" 2 USR1 "$WORK/bad"
cp -r "$WORK/bad" "$WORK/bad2"
expect_error "--resume with other data" "trained on other data" $T2 --resume "$WORK/bad" "$WORK/other/era5_2002.nc"
expect_error "--resume with another --latent: refused, naming it" "--resume .*bad: option --latent 6 would change the run \(its config.txt: 8\)" \
  $T2 --resume "$WORK/bad" --latent 6
expect_error "--resume with other clusters" "option --clusters 5 would change the run" $T2 --resume "$WORK/bad" -k 5
expect_error "--resume with other --pretrain-epochs" "option --pretrain-epochs 1 would change the run \(its config.txt: 4\)" \
  $T2 --resume "$WORK/bad" --pretrain-epochs 1
expect_error "--resume with --max-iter below the joint steps done" "option --max-iter 1: the run has done [0-9]+ joint steps already" \
  $T2 --resume "$WORK/bad" --max-iter 1
sed 's/^latent = 8$/latent = 6/' "$WORK/bad2/config.txt" > "$WORK/arch.txt"
mkdir "$WORK/bad3" && cp "$WORK/bad/checkpoint.ckpt" "$WORK/bad3/" && cp "$WORK/arch.txt" "$WORK/bad3/config.txt"
expect_error "--resume with another architecture in config.txt" "architecture differs" $T2 --resume "$WORK/bad3"
head -c 2000 "$WORK/bad2/checkpoint.ckpt" > "$WORK/bad2/t" && mv "$WORK/bad2/t" "$WORK/bad2/checkpoint.ckpt"
expect_error "--resume from a truncated checkpoint" "checkpoint.ckpt: checkpoint is truncated" $T2 --resume "$WORK/bad2"
expect_error "--resume of a folder without checkpoint" "no checkpoint.ckpt" $T2 --resume "$WORK/r2"
check "the failed resumes left the stopped run as it was" sh -c "test -s '$WORK/bad/checkpoint.ckpt' && test ! -e '$WORK/bad/labels.csv' \
   && cmp '$WORK/bad/config.txt' '$WORK/bad2/config.txt'"
tap_done
