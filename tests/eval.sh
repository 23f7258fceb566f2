#!/bin/sh
# eval.sh - dsc eval end to end: dsc synth (small grid, 2 years), labels
# from truth.csv and from scikit-learn's KMeans on the same matrix read with
# netCDF4 and normalised in numpy; metrics.json at 1, 2 and 3 ranks must
# match scikit-learn to 1e-5, ARI = 1 for labels == truth, the latent space
# of a checkpoint (encoder against PyTorch, metrics against scikit-learn on
# dsc's saved latents), and bad labels files give one clear error at 2 ranks
# and no metrics.json.  Every reference is built under check, so a broken
# Python side fails instead of passing silently.
. ./tests/testenv.sh

"$PYTHON" -c 'import sklearn, netCDF4' 2>/dev/null || skip_all "scikit-learn or netCDF4 is not available to $PYTHON"
REF="$top_srcdir/tests/metrics_sklearn.py"
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
D="$WORK/data"

check "dsc synth writes 2 years on a small grid" "$DSC" synth -q -o "$D" --years 2001-2002 --grid 12x10
check "numpy twin of the normalised matrix (real cells; padded for the encoder)" "$PYTHON" "$REF" netcdf "$WORK/x" "$D"/era5_2001.nc "$D"/era5_2002.nc
check "KMeans labels of the same matrix" "$PYTHON" "$REF" kmeans "$WORK/x" 5 "$WORK/kmeans.csv"
check "scikit-learn reference of the truth labels" sh -c \
  "'$PYTHON' '$REF' reference-csv '$WORK/x' '$D/truth.csv' '$D/truth.csv' > '$WORK/truth.ref'"
check "scikit-learn reference of the KMeans labels" sh -c \
  "'$PYTHON' '$REF' reference-csv '$WORK/x' '$WORK/kmeans.csv' '$D/truth.csv' > '$WORK/kmeans.ref'"

for np in 1 2 3; do
  for lab in truth kmeans; do
    labels="$D/truth.csv"
    [ $lab = kmeans ] && labels="$WORK/kmeans.csv"
    rm -f "$WORK/m.json"
    check "$lab labels, $np rank(s): metrics.json matches scikit-learn to 1e-5" sh -c \
      "$(launcher $np) '$DSC' eval --labels '$labels' --truth '$D/truth.csv' -o '$WORK/m.json' '$D'/era5_200*.nc \
       && '$PYTHON' '$REF' compare '$WORK/$lab.ref' '$WORK/m.json' \
       && grep -q '\"ranks\": $np' '$WORK/m.json'"
  done
done
check "labels == truth: ARI = 1 and NMI = 1" sh -c \
  "$(launcher 2) '$DSC' eval -l '$D/truth.csv' --truth '$D/truth.csv' -o '$WORK/t.json' '$D'/era5_200*.nc >/dev/null \
   && '$PYTHON' -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(not (m[\"ari\"] == 1 and abs(m[\"nmi\"] - 1) < 1e-12))' '$WORK/t.json'"
check "--sample: output says sampled" sh -c \
  "$(launcher 2) '$DSC' eval -l '$D/truth.csv' --sample 300 -o '$WORK/s.json' '$D'/era5_200*.nc | grep -q sampled \
   && grep -q '\"sampled\": 300' '$WORK/s.json'"

# Latent space, in two separate checks.  (1) The encoder: dsc's latents
# (--save-latent) against the PyTorch twin of the checkpoint, run in float32
# and float64; dsc may not be less accurate than the float32 twin (see
# latent_check in metrics_sklearn.py for why a few ulp cannot be the bound).
# (2) The metrics: scikit-learn scores dsc's OWN saved latents, so both sides
# score the same numbers and the 1e-5 of the input space applies.  The
# checkpoint's latent layer is calibrated on the data so the latents spread
# over (0, 1): the latents of an untrained model sit within 1e-4 of 0.5, where
# the minimum distances between clusters hang on the last bits of float32.
if "$PYTHON" -c 'import torch' 2> /dev/null; then
  check "a small model's checkpoint (16x16 grid, 7 variables), latent layer calibrated" \
    ./tests/make_checkpoint "$WORK/model.ckpt" 7 16 16 5 "$WORK/x.padded.bin"
  for np in 1 3; do
    rm -f "$WORK/l$np.json" "$WORK/z$np.nc"
    check "--metric-space latent --save-latent, $np rank(s): metrics.json and latent features written" sh -c \
      "$(launcher $np) '$DSC' eval --metric-space latent --model '$WORK/model.ckpt' -l '$D/truth.csv' --truth '$D/truth.csv' \
         --save-latent '$WORK/z$np.nc' -o '$WORK/l$np.json' '$D'/era5_200*.nc > /dev/null \
       && grep -q '\"n_features\": 6' '$WORK/l$np.json' && grep -q '\"metric_space\": \"latent\"' '$WORK/l$np.json'"
    check "$np rank(s): the encoder's latents are as accurate as PyTorch's float32 twin" \
      "$PYTHON" "$REF" latent-check "$WORK/x" "$WORK/model.ckpt" "$WORK/z$np.nc" "$WORK/z$np"
    check "$np rank(s): scikit-learn reference of the saved latents" sh -c \
      "'$PYTHON' '$REF' reference-csv '$WORK/z$np' '$D/truth.csv' '$D/truth.csv' > '$WORK/latent$np.ref'"
    check "$np rank(s): latent-space metrics match scikit-learn on the same latents to 1e-5" \
      "$PYTHON" "$REF" compare "$WORK/latent$np.ref" "$WORK/l$np.json"
  done
  check "the latent features at 1 and 3 ranks are bitwise identical (batches aligned to global positions)" \
    cmp "$WORK/z1.nc" "$WORK/z3.nc"
  ./tests/make_checkpoint "$WORK/other.ckpt" 3 16 16 5 > /dev/null 2>&1
  expect_error "a model for other variables" "other.ckpt: the model takes 3 variables on a 16x16 grid but the data give 7" \
    $(launcher 2) "$DSC" eval --metric-space latent --model "$WORK/other.ckpt" -l "$D/truth.csv" -o "$WORK/o.json" "$D"/era5_200*.nc
else
  skip "--metric-space latent against PyTorch" "python3-torch is not available to $PYTHON"
fi
expect_error "--metric-space latent without --model" "latent needs --model" \
  $(launcher 2) "$DSC" eval --metric-space latent -l "$D/truth.csv" "$D"/era5_200*.nc
expect_error "--save-latent in input space" "save-latent writes latent features, which need --metric-space latent" \
  $(launcher 2) "$DSC" eval --save-latent "$WORK/no.nc" -l "$D/truth.csv" "$D"/era5_200*.nc
check "no latent file after the error" test ! -e "$WORK/no.nc"

# Bad labels files: one error line naming the file (and the line), nothing written.
B="$WORK/bad"
mkdir -p "$B"
sed '100,110d' "$D/truth.csv" > "$B/missing.csv"
sed 's/^2001-/1991-/; s/^2002-/1992-/' "$D/truth.csv" > "$B/period.csv"
sed 's/,[0-9]*$/,4/' "$D/truth.csv" > "$B/single.csv"
sed '50s/,/;/' "$D/truth.csv" > "$B/malformed.csv"
sed '60s/,.*$/,four/' "$D/truth.csv" > "$B/word.csv"
sed '70s/^2001-03-10/2001-02-30/' "$D/truth.csv" > "$B/date.csv"
{ cat "$D/truth.csv"; sed -n '20p' "$D/truth.csv"; } > "$B/duplicate.csv"
# (expect_error runs its command under timeout: no shell function here)
EVAL2="$(launcher 2) $DSC eval -o $B/out.json $D/era5_2001.nc $D/era5_2002.nc --labels"
expect_error "labels missing 11 time steps" "missing.csv: no label for time step 2001-04-09T00:00:00 \(11 of 730" $EVAL2 "$B/missing.csv"
expect_error "labels for another period" "period.csv: no label for time step 2001-01-01.*labels cover 1991-01-01" $EVAL2 "$B/period.csv"
expect_error "a single distinct label" "single.csv: every time step has the same label \(4\)" $EVAL2 "$B/single.csv"
expect_error "a line without comma" "malformed.csv: line 50: no comma" $EVAL2 "$B/malformed.csv"
expect_error "a label that is not an integer" "word.csv: line 60: label 'four' is not an integer" $EVAL2 "$B/word.csv"
expect_error "an invalid date" "date.csv: line 70: '2001-02-30T00:00:00' is not an ISO 8601 time" $EVAL2 "$B/date.csv"
expect_error "a time labelled twice" "duplicate.csv: line 732: time 2001-01-19T00:00:00 already labelled on line 20" $EVAL2 "$B/duplicate.csv"
expect_error "a labels file that does not exist" "nosuch.csv: cannot open labels" $EVAL2 "$B/nosuch.csv"
# K and memory bounds: at most T / 2 clusters, the metrics' memory estimated
# per rank before the data are read, the K x K matrix in JSON up to 256 clusters
"$PYTHON" -c "
import sys
rows = [l.split(',')[0] for l in open(sys.argv[1]) if l[:1].isdigit()]
for k in (300, 366):
    open('%s/k%d.csv' % (sys.argv[2], k), 'w').writelines('%s,%d\\n' % (t, i % k) for i, t in enumerate(rows))" "$D/truth.csv" "$B"
expect_error "366 clusters of 730 time steps (more than T / 2)" "k366.csv: 366 distinct labels for 730 time steps, fewer than 2 time steps per cluster; the metrics take at most 365" $EVAL2 "$B/k366.csv"
expect_error "--max-memory 1 on 3 ranks: the K x K part alone is over, no hint of more ranks" \
  "300 clusters need about [0-9.]+ MiB per rank .* on 3 rank\\(s\\) .*more than --max-memory 1 MiB; fewer clusters \\(the K x K part alone is over\\)" \
  $(launcher 3) "$DSC" eval --max-memory 1 -o "$B/out.json" --labels "$B/k300.csv" "$D"/era5_2001.nc "$D"/era5_2002.nc
expect_error "--max-memory 4.2 on 1 rank: more ranks help, and say how many" \
  "7 clusters need about 5.[0-9] MiB per rank .* on 1 rank\\(s\\) .*more than --max-memory 4.2 MiB; use at least 8 ranks" \
  $(launcher 1) "$DSC" eval --max-memory 4.2 -o "$B/out.json" --labels "$D/truth.csv" "$D"/era5_2001.nc "$D"/era5_2002.nc
check "300 clusters: metrics.json without the 300 x 300 matrix (null), small, with a warning" sh -c \
  "$(launcher 2) '$DSC' eval -l '$B/k300.csv' -o '$WORK/k300.json' '$D'/era5_200*.nc > /dev/null 2> '$WORK/k300.err' \
   && grep -q 'inter-cluster matrix is not written to JSON' '$WORK/k300.err' && test \$(wc -c < '$WORK/k300.json') -lt 20000 \
   && '$PYTHON' -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(not (m[\"inter_cluster_distance\"] is None and len(m[\"cluster_sizes\"]) == 300 and m[\"avg_inter_cluster_distance\"] > 0))' '$WORK/k300.json'"
expect_error "--labels is required" "option --labels is required" $(launcher 2) "$DSC" eval "$D"/era5_2001.nc
check "no metrics.json after the errors" test ! -e "$B/out.json"
tap_done
