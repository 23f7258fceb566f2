#!/bin/sh
# train_persistence.sh - dsc train --persistence (the clustering layer along
# time, src/cluster/clustering_persistent.c) end to end on synth data with
# 7-day regimes and a gap (the years 2001 and 2003): --persistence 0 is the
# plain run byte for byte, --persistence Nd trains the same network and
# decodes its labels along time (episodes longer than the plain run's, near
# the wanted length; 1, 2 and 3 ranks agree), --persistence-target trains on
# the target along time; metrics.json reports the chain and the penalty;
# dsc predict decodes along time with the model's penalty (the training
# labels at any rank count; each side of the gap on its own) or with one of
# --persistence Nd (a plain model then gives the labels of dsc train
# --persistence Nd); stop and --resume end with exactly the uninterrupted
# run's labels; bad values are one error line.
. ./tests/testenv.sh

"$PYTHON" -c 'import netCDF4, numpy' 2>/dev/null || skip_all "netCDF4 or numpy is not available to $PYTHON"
CHECK="$top_srcdir/tests/train_check.py"
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
D="$WORK/data"
"$DSC" synth -q --years 2001-2003 --grid 12x12 --vars t2m,sp,u10 --persistence 7 --seed 4 -o "$D" > "$WORK/log" 2>&1 ||
  { fail "synth data"; tap_done; }
rm "$D/era5_2002.nc"
FILES="$D/era5_2001.nc $D/era5_2003.nc"
SMALL="-k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --batch 16 --pretrain-epochs 2 --max-iter 60 --update-interval 20 \
  --tol 0 --kmeans-init 3 --anomalies --scaling cell --truth $D/truth.csv"
tr() { # NAME NP OPTIONS...
  _n=$1 _np=$2; shift 2
  : > "$WORK/log"
  $(launcher "$_np") "$DSC" train -q $SMALL --force -o "$WORK/$_n" "$@" $FILES >> "$WORK/log" 2>&1
}
# "regimes" of metrics.json: the mean episode length in days
episode_days() { "$PYTHON" -c "import json; print(json.load(open('$1/metrics.json'))['regimes']['mean_episode_days'])"; }

tr plain 2 && tr zero 2 --persistence 0
check "--persistence 0: labels.csv, labels.nc and model.ckpt of the plain run" sh -c \
  "cmp '$WORK/plain/labels.csv' '$WORK/zero/labels.csv' && cmp '$WORK/plain/labels.nc' '$WORK/zero/labels.nc' \
   && cmp '$WORK/plain/model.ckpt' '$WORK/zero/model.ckpt'"
check "--persistence 0: no persistence key in metrics.json" sh -c "! grep -q persistence '$WORK/zero/metrics.json'"

for np in 1 2 3; do tr p$np $np --persistence 5d || fail "--persistence 5d on $np rank(s) runs"; done
check "metrics.json: target 5 days, switch probability 1/5 per daily step, a penalty >= 0, the target per time step" "$PYTHON" -c "
import json, sys
m = json.load(open('$WORK/p2/metrics.json'))['persistence']
sys.exit(0 if m['target_days'] == 5 and abs(m['switch_prob'] - 0.2) < 1e-15 and m['penalty'] >= 0
         and m['target'] == 'per time step' else 1)"
check "--persistence 5d trains the paper's network: model.ckpt parameters of the plain run, bit for bit" \
  "$PYTHON" "$CHECK" params "$WORK/plain/model.ckpt" "$WORK/p2/model.ckpt" 0
plain=$(episode_days "$WORK/plain")
five=$(episode_days "$WORK/p2")
check "--persistence 5d: mean episode $five days, longer than the plain run's $plain and within 3.5-7 days" "$PYTHON" -c "
import sys; p, s = $plain, $five; sys.exit(0 if s > p and 3.5 <= s <= 7 else 1)"
for np in 1 3; do
  check "--persistence 5d: labels at 2 and $np ranks agree on >= 99% of the time steps" \
    "$PYTHON" "$CHECK" labels "$WORK/p2/labels.csv" "$WORK/p$np/labels.csv" 0.99
done
check "labels.csv: fewer switches of regime inside the years than the plain run's" "$PYTHON" -c "
import csv, sys
def switches(d):
    rows = list(csv.reader(open(d + '/labels.csv')))[1:]
    return sum(1 for a, b in zip(rows, rows[1:]) if a[1] != b[1] and a[0][:4] == b[0][:4])
sys.exit(0 if switches('$WORK/p2') < switches('$WORK/plain') else 1)"
tr pt 2 --persistence 5d --persistence-target || fail "--persistence 5d --persistence-target runs"
check "--persistence-target: the joint steps trained on another target (KL(P || Q) at every update > 10% off the plain run's)" "$PYTHON" -c "
import json, sys
kl = lambda d: [h['kl_loss'] for h in json.load(open(d + '/metrics.json'))['history'] if h['kl_loss'] is not None]
a, b = kl('$WORK/plain'), kl('$WORK/pt')
sys.exit(0 if len(a) == len(b) > 0 and all(abs(y - x) > 0.1 * x for x, y in zip(a, b)) else 1)"
check "--persistence-target: metrics.json says the target was along time" grep -q '"target": "along time"' "$WORK/pt/metrics.json"

# dsc predict: the model's penalty, the record's segments of the files given
for np in 1 3; do
  check "predict on $np rank(s) with the persistent model: exactly the training labels" sh -c \
    "$(launcher $np) '$DSC' predict -q -m '$WORK/pt/model.ckpt' -o '$WORK/pr$np' $FILES \
     && cmp '$WORK/pt/labels.csv' '$WORK/pr$np/labels.csv'"
done
check "predict on 2003 alone: the 2003 labels of the training run (the gap cut the decoding there too)" sh -c \
  "$(launcher 2) '$DSC' predict -q -m '$WORK/pt/model.ckpt' -o '$WORK/pr03' '$D/era5_2003.nc' \
   && grep '^2003' '$WORK/pt/labels.csv' > '$WORK/t03' && grep '^2003' '$WORK/pr03/labels.csv' > '$WORK/p03' \
   && cmp '$WORK/t03' '$WORK/p03'"
check "predict with the plain model: argmax labels, the training labels" sh -c \
  "$(launcher 2) '$DSC' predict -q -m '$WORK/plain/model.ckpt' -o '$WORK/prp' $FILES \
   && cmp '$WORK/plain/labels.csv' '$WORK/prp/labels.csv'"
check "predict --persistence 5d with the plain model: exactly the labels of dsc train --persistence 5d" sh -c \
  "$(launcher 3) '$DSC' predict -q --persistence 5d -m '$WORK/plain/model.ckpt' -o '$WORK/prp5' $FILES \
   && cmp '$WORK/p2/labels.csv' '$WORK/prp5/labels.csv'"
check "predict --persistence 0 with the persistent model: the argmax labels of the plain run" sh -c \
  "$(launcher 2) '$DSC' predict -q --persistence 0 -m '$WORK/p2/model.ckpt' -o '$WORK/pr0' $FILES \
   && cmp '$WORK/plain/labels.csv' '$WORK/pr0/labels.csv'"

# Stop on a signal, resume: exactly the labels of the uninterrupted run.
LONG="--persistence 5d --persistence-target --max-iter 400 --update-interval 20"
check "uninterrupted reference run (2 ranks, 400 joint steps)" sh -c "$(launcher 2) '$DSC' train -q $SMALL $LONG -o '$WORK/u' $FILES"
stop_when "$WORK/stop.log" '^step  *[2-9][0-9]/' USR1 $(launcher 2) "$DSC" train $SMALL $LONG -o "$WORK/s" $FILES
if [ $stop_rc -eq 3 ] && [ -s "$WORK/s/checkpoint.ckpt" ]; then pass "SIGUSR1: exit status 3, checkpoint written"
else cat "$WORK/stop.log" > "$WORK/log"; fail "SIGUSR1: exit status $stop_rc (expected 3)"; fi
check "--resume ends with exactly the labels and parameters of the uninterrupted run" sh -c \
  "$(launcher 2) '$DSC' train --resume '$WORK/s' -q && cmp '$WORK/u/labels.csv' '$WORK/s/labels.csv' \
   && '$PYTHON' '$CHECK' params '$WORK/u/model.ckpt' '$WORK/s/model.ckpt' 0"

T2="$(launcher 2) $DSC train -q $SMALL"
expect_error "--persistence without d" "option --persistence: '5' is not 0 or a mean episode length in days such as 5d" \
  $T2 --persistence 5 -o "$WORK/b1" $FILES
expect_error "--persistence negative" "option --persistence: '-2d' is not 0" $T2 --persistence -2d -o "$WORK/b2" $FILES
expect_error "--persistence below two time steps" "option --persistence 1.5d: 1.5 time steps of 24 hours; give a mean episode of at least two time steps \\(2d\\)" \
  $T2 --persistence 1.5d -o "$WORK/b3" $FILES
expect_error "--persistence-target without --persistence" "option --persistence-target needs --persistence Nd" \
  $T2 --persistence-target -o "$WORK/b4" $FILES
expect_error "predict --persistence without d" "dsc predict: option --persistence: '3' is not model, 0 or a mean episode length" \
  $(launcher 2) "$DSC" predict --persistence 3 -m "$WORK/p2/model.ckpt" -o "$WORK/b5" $FILES
check "no output folder is left by a refused run" sh -c "! test -e '$WORK/b1' && ! test -e '$WORK/b3' && ! test -e '$WORK/b5'"
tap_done
