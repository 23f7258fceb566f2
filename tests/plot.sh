#!/bin/sh
# plot.sh - dsc-plot on the outputs of a small dsc train run and a dsc kmeans
# run: every picture is written, is a PNG of the documented pixel size with
# something drawn in it, the composite maps show each cluster's anomaly in the
# right colour of a scale centred on zero, the time line shows each day's
# cluster, the transition matrix each probability, and bad input gives one error line (tests/plot_check.py); a
# symbolic link in the output folder is replaced, never followed.
. ./tests/testenv.sh

"$PYTHON" -c 'import matplotlib, netCDF4, numpy' 2>/dev/null || skip_all "matplotlib, netCDF4 or numpy is not available to $PYTHON (Debian python3-matplotlib python3-netcdf4)"
PLOT="$top_builddir/dsc-plot"
CHECK="$PYTHON $top_srcdir/tests/plot_check.py"
D="$WORK/data"
NET="--conv 4,4,4,8,8 --lstm 8,8 --latent 4"

# An odd grid, so that the centre of every map panel is one grid cell.
check "dsc synth: 2 years on an 11x9 grid" "$DSC" synth -q -o "$D" --years 2001-2002 --grid 11x9 --resolution 1
check "dsc train: a small run" run_np 2 "$DSC" train -q -k 4 --anomalies $NET --pretrain-epochs 1 --max-iter 20 \
  --update-interval 5 --batch 32 -o "$WORK/train" "$D"/era5_2001.nc "$D"/era5_2002.nc
check "dsc kmeans: a small run" run_np 2 "$DSC" kmeans -q -k 4 --anomalies -o "$WORK/km" "$D"/era5_2001.nc "$D"/era5_2002.nc

check "dsc-plot draws the train run (PCA embedding only)" "$PLOT" --no-tsne -o "$WORK/ptrain" "$WORK/train"
for name in composites timeline seasonal training embedding1 transitions durations; do
  check "train run: $name.png has the documented size and is not blank" $CHECK size-$name "$WORK/train" "$WORK/ptrain" 100
done
check "train run: each map panel's centre has the colour of its anomaly" $CHECK composites "$WORK/train" "$WORK/ptrain" 100
check "train run: the time line shows each day's cluster" $CHECK timeline "$WORK/train" "$WORK/ptrain" 100

check "dsc-plot draws the kmeans run into the run folder" "$PLOT" --no-tsne "$WORK/km"
for name in composites timeline seasonal transitions durations; do
  check "kmeans run: $name.png has the documented size and is not blank" $CHECK size-$name "$WORK/km" "$WORK/km" 100
done
check "kmeans run: each cell of the transition matrix has the colour of its probability" $CHECK transitions "$WORK/km" "$WORK/km" 100
check "kmeans run: no training curves or embedding without metrics history and latents" \
  test ! -e "$WORK/km/training.png" -a ! -e "$WORK/km/embedding.png"
check "kmeans run: map colours" $CHECK composites "$WORK/km" "$WORK/km" 100
check "kmeans run: time line colours" $CHECK timeline "$WORK/km" "$WORK/km" 100

if "$PYTHON" -c 'import sklearn.manifold' 2> /dev/null; then
  check "with scikit-learn: PCA and t-SNE side by side" "$PLOT" --dpi 40 --vars t2m -o "$WORK/ptsne" "$WORK/train"
  check "embedding.png has two panels" $CHECK size-embedding2 "$WORK/train" "$WORK/ptsne" 40
else
  skip "with scikit-learn: PCA and t-SNE side by side" "scikit-learn is not available to $PYTHON"
fi

# the compare table of dsc compare (the columns it writes: method, <metric>_mean/_std/_best)
mkdir -p "$WORK/cmp"
cat > "$WORK/cmp/compare.csv" <<EOC
method,runs,ari_mean,ari_std,ari_best,silhouette_mean,silhouette_std,silhouette_best
kmeans,3,0.40,0.05,0.45,0.05,0.01,0.06
dsc,3,0.10,0.02,0.12,0.01,0.005,0.02
EOC
check "dsc-plot draws a compare table" "$PLOT" -o "$WORK/cmp" "$WORK/cmp"
check "compare.png: 2 metric rows at 100 dpi are 1000x500 pixels" sh -c \
  "$PYTHON -c 'import struct,sys; b=open(sys.argv[1],\"rb\").read(24); sys.exit(struct.unpack(\">II\", b[16:24]) != (1000, 500))' '$WORK/cmp/compare.png'"

plot_error() {  # description, regular expression, arguments: one line "dsc-plot: error: ...", non-zero exit
  _desc=$1; _re=$2; shift 2
  timeout 120 "$PLOT" "$@" > "$WORK/out" 2> "$WORK/err"; _rc=$?
  cat "$WORK/out" "$WORK/err" > "$WORK/log"
  if [ $_rc -eq 124 ]; then
    fail "$_desc (hung: killed after 120 s)"
  elif [ $_rc -ne 0 ] && [ "$(wc -l < "$WORK/err")" -eq 1 ] && grep -Eq -- "^dsc-plot: error: .*$_re" "$WORK/err"; then
    pass "$_desc"
  else
    fail "$_desc (status $_rc, stderr: $(head -c 300 "$WORK/err"))"
  fi
}
plot_error "a folder that does not exist" "nosuch is not a folder" "$WORK/nosuch"
mkdir -p "$WORK/empty"
plot_error "a folder without dsc outputs" "holds none of" "$WORK/empty"
plot_error "an unknown variable" "has no variable zz.*--vars" --vars zz -o "$WORK/p2" "$WORK/km"
mkdir -p "$WORK/badjson" && echo '{"history": [' > "$WORK/badjson/metrics.json"
plot_error "a broken metrics.json" "metrics.json is not valid JSON" "$WORK/badjson"
plot_error "an unknown option" "unrecognized arguments: --bogus" --bogus "$WORK/km"

# A symbolic link where a picture goes is replaced by the picture, its target kept.
L="$WORK/links"
mkdir -p "$L"
cp "$WORK/km/labels.nc" "$WORK/km/composites.nc" "$L"
echo keep > "$WORK/target"
ln -s "$WORK/target" "$L/composites.png"
check "dsc-plot into a folder with a link named composites.png" "$PLOT" --no-tsne "$L"
check "... the link's target is unchanged; composites.png is now the picture; no temporary file" sh -c \
  "[ \"\$(cat '$WORK/target')\" = keep ] && test ! -L '$L/composites.png' && $CHECK size-composites '$WORK/km' '$L' 100 \
   && [ \"\$(ls -A '$L' | tr '\n' ' ')\" = 'composites.nc composites.png durations.png labels.nc seasonal.png timeline.png transitions.png ' ]"
plot_error "-o a file" "-o .*target is a file" -o "$WORK/target" "$WORK/km"
check "... the file is unchanged" sh -c "[ \"\$(cat '$WORK/target')\" = keep ]"

# Bad labels.nc and composites.nc: one line naming the file.
bad_run() { rm -rf "$WORK/bad"; mkdir "$WORK/bad"; cp "$WORK/km/labels.nc" "$WORK/km/composites.nc" "$WORK/bad"; }
bad_run; $CHECK label "$WORK/bad/labels.nc" 5 4
plot_error "a label equal to K" "bad/labels.nc: time step 5 has label 4, outside 0..3" "$WORK/bad"
bad_run; $CHECK label "$WORK/bad/labels.nc" 7 -1
plot_error "a negative label" "bad/labels.nc: time step 7 has label -1, outside 0..3" "$WORK/bad"
bad_run; $CHECK range "$WORK/bad/labels.nc" 999999
plot_error "K = 1000000 clusters" "bad/labels.nc has 1000000 clusters; dsc-plot draws 1 to 100" "$WORK/bad"
bad_run; head -c $(($(wc -c < "$WORK/km/labels.nc") - 4)) "$WORK/km/labels.nc" > "$WORK/bad/labels.nc"
plot_error "a truncated labels.nc" "bad/labels.nc is truncated" "$WORK/bad"
bad_run; head -c $(($(wc -c < "$WORK/km/composites.nc") / 2)) "$WORK/km/composites.nc" > "$WORK/bad/composites.nc"
plot_error "a truncated composites.nc" "bad/composites.nc is truncated" "$WORK/bad"
check "... no picture and no temporary file left by the failed runs" sh -c \
  "[ \"\$(ls -A '$WORK/bad' | tr '\n' ' ')\" = 'composites.nc labels.nc ' ]"
tap_done
