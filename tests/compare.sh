#!/bin/sh
# compare.sh - dsc compare on a small data set on 2 ranks: every method runs
# once per seed, compare.csv and compare.md summarise the runs (checked
# against each run's own metrics.json by tests/compare_check.py), the k-means
# rows are the same at 1 and 2 ranks, dsc-plot draws the table, and bad
# options give one error line.
. ./tests/testenv.sh

"$PYTHON" -c 'import json, csv' 2>/dev/null || skip_all "$PYTHON cannot run the checks"
D="$WORK/data"
NET="--conv 4,4,4,8,8 --lstm 8,8 --dense 16,16,32 --latent 4 --dtc-filters 8 --dtc-lstm 8,1 --pretrain-epochs 1 --max-iter 10 --update-interval 5 --kmeans-init 2"

check "dsc synth: 2 years on a 12x10 grid" "$DSC" synth -q -o "$D" --years 2001-2002 --grid 12x10 --resolution 1
check "dsc compare: k-means raw and on anomalies, EOF + k-means, Ward, DSC, DEC, DTC, 2 seeds, 2 ranks" run_np 2 "$DSC" compare -q -k 4 --seeds 2 \
  --methods kmeans,kmeans-anomalies,eof-kmeans,cosine-kmeans,ward,dsc,dec,dtc --pca 5 --truth "$D/truth.csv" --train-options "$NET" -o "$WORK/cmp2" "$D"/era5_2001.nc "$D"/era5_2002.nc
check "compare.csv and compare.md summarise the runs (mean, std, best from the runs' own metrics)" \
  "$PYTHON" "$top_srcdir/tests/compare_check.py" "$WORK/cmp2" 2 kmeans kmeans-anomalies eof-kmeans cosine-kmeans ward:1 dsc dec dtc
check "every run kept its own outputs" sh -c "for m in kmeans kmeans-anomalies eof-kmeans cosine-kmeans dsc dec dtc; do for s in 1 2; do test -s '$WORK/cmp2/runs/'\$m/seed\$s/labels.nc || exit 1; done; done"
check "dsc compare: the k-means rows on 1 rank" run_np 1 "$DSC" compare -q -k 4 --seeds 2 --methods kmeans,kmeans-anomalies \
  --truth "$D/truth.csv" -o "$WORK/cmp1" "$D"/era5_2001.nc "$D"/era5_2002.nc
check "k-means rows: the same figures at 1 and 2 ranks (time columns aside)" sh -c \
  "cut -d, -f1-20 '$WORK/cmp1/compare.csv' > '$WORK/c1' && grep -E '^(method|kmeans|kmeans-anomalies),' '$WORK/cmp2/compare.csv' | cut -d, -f1-20 > '$WORK/c2' && cmp '$WORK/c1' '$WORK/c2'"
if "$PYTHON" -c 'import matplotlib, netCDF4' 2> /dev/null; then
  check "the dtc rows come from DTC runs (metrics.json variant, latent of ceil(7 x 16 x 16 / 10) = 180 positions)" \
  "$PYTHON" -c "
import json, sys, netCDF4
for s in (1, 2):
    r = sys.argv[1] + '/runs/dtc/seed%d/' % s
    assert json.load(open(r + 'metrics.json'))['variant'] == 'dtc'
    assert netCDF4.Dataset(r + 'latent.nc').variables['z'].shape[1] == 180" "$WORK/cmp2"
check "dsc-plot draws the comparison" "$top_builddir/dsc-plot" --no-tsne "$WORK/cmp2"
  check "compare.png: 7 metric rows at 100 dpi are 1000x1750 pixels" sh -c \
    "$PYTHON -c 'import struct,sys; b=open(sys.argv[1],\"rb\").read(24); sys.exit(struct.unpack(\">II\", b[16:24]) != (1000, 1750))' '$WORK/cmp2/compare.png'"
else
  skip "dsc-plot draws the comparison" "matplotlib or netCDF4 is not available to $PYTHON"
fi
expect_error "an unknown method" "option --methods: 'kmean' is not a method" \
  run_np 2 "$DSC" compare -k 4 --methods kmean -o "$WORK/bad" "$D"/era5_2001.nc
expect_error "no output folder" "option -o DIR is required" run_np 2 "$DSC" compare -k 4 "$D"/era5_2001.nc
expect_error "a failing method stops every rank with its error" "dsc train: .*--latent" \
  run_np 2 "$DSC" compare -k 4 --methods dsc --seeds 1 --train-options "--latent 0" -o "$WORK/bad2" "$D"/era5_2001.nc
# --truth is an input: a folder whose outputs would replace it is refused
# before any method runs, and the file is left as it was
mkdir "$WORK/t1"
cp "$D/truth.csv" "$WORK/t1/compare.csv"
expect_error "--truth that compare.csv would overwrite" "-o .*t1 would overwrite the --truth file .*t1/compare\\.csv \\(as compare\\.csv\\)" \
  run_np 2 "$DSC" compare -k 4 --seeds 1 --methods kmeans --force --truth "$WORK/t1/compare.csv" -o "$WORK/t1" "$D"/era5_2001.nc
check "that --truth file is left as it was, and no run started" sh -c "cmp '$D/truth.csv' '$WORK/t1/compare.csv' && test ! -e '$WORK/t1/runs'"
cp "$WORK/cmp1/runs/kmeans/seed1/labels.csv" "$WORK/kept.csv"
expect_error "--truth inside the run folders of -o" "the --truth file .*cmp1/runs/kmeans/seed1/labels\\.csv lies in .*cmp1/runs" \
  run_np 2 "$DSC" compare -k 4 --seeds 1 --methods kmeans-anomalies,kmeans --force \
  --truth "$WORK/cmp1/runs/kmeans/seed1/labels.csv" -o "$WORK/cmp1" "$D"/era5_2001.nc "$D"/era5_2002.nc
check "that --truth file is left as it was" cmp "$WORK/kept.csv" "$WORK/cmp1/runs/kmeans/seed1/labels.csv"
cp "$D/truth.csv" "$WORK/t1/truth.csv"
check "--truth in the -o folder, not among its outputs, is read and kept (--force)" sh -c \
  "$(echo "$TESTMPIRUN" | sed "s/NP/2/") '$DSC' compare -q -k 4 --seeds 1 --methods kmeans --force --truth '$WORK/t1/truth.csv' \
   -o '$WORK/t1' '$D'/era5_2001.nc && test -s '$WORK/t1/compare.csv' && cmp '$D/truth.csv' '$WORK/t1/truth.csv'"
tap_done
