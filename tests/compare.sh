#!/bin/sh
# compare.sh - dsc compare on a small data set on 2 ranks: every method runs
# once per seed, compare.csv and compare.md summarise the runs (checked
# against each run's own metrics.json by tests/compare_check.py), the k-means
# rows are the same at 1 and 2 ranks, the persistent methods run with
# compare's --persistence, dsc-plot draws the table, and bad options give
# one error line.
. ./tests/testenv.sh

"$PYTHON" -c 'import json, csv' 2>/dev/null || skip_all "$PYTHON cannot run the checks"
D="$WORK/data"
NET="--conv 4,4,4,8,8 --lstm 8,8 --dense 16,16,32 --latent 4 --dtc-filters 8 --dtc-lstm 8,1 --pretrain-epochs 1 --max-iter 10 --update-interval 5 --kmeans-init 2"

check "dsc synth: 2 years on a 12x10 grid" "$DSC" synth -q -o "$D" --years 2001-2002 --grid 12x10 --resolution 1
check "dsc compare: k-means raw and on anomalies, EOF + k-means, Ward, DSC, DEC, DTC, 2 seeds, 2 ranks" run_np 2 "$DSC" compare -q -k 4 --seeds 2 \
  --methods kmeans,kmeans-anomalies,eof-kmeans,cosine-kmeans,ward,dsc,dec,dtc --pca 5 --truth "$D/truth.csv" --train-options "$NET" -o "$WORK/cmp2" "$D"/era5_2001.nc "$D"/era5_2002.nc
check "compare.csv and compare.md summarise the runs (mean, std, best from the runs' own metrics)" \
  "$PYTHON" "$top_srcdir/tests/compare_check.py" "$WORK/cmp2" 2 kmeans kmeans-anomalies eof-kmeans cosine-kmeans ward:1 dsc dec dtc
check "compare.md and compare.csv record the training settings every network row ran with" sh -c \
  "grep -Fq -- 'ran \`dsc train -k 4 $NET\`' '$WORK/cmp2/compare.md' && grep -Fq -- 'ran \`dsc train --variant dec -k 4 $NET\`' '$WORK/cmp2/compare.md' \
   && grep -Fq -- ',\"dsc train -k 4 $NET\"' '$WORK/cmp2/compare.csv' && grep -Fq -- 'Training settings of every network method (--train-options): \`$NET\`' '$WORK/cmp2/compare.md'"
check "every run kept its own outputs" sh -c "for m in kmeans kmeans-anomalies eof-kmeans cosine-kmeans dsc dec dtc; do for s in 1 2; do test -s '$WORK/cmp2/runs/'\$m/seed\$s/labels.nc || exit 1; done; done"
check "dsc compare: the k-means rows on 1 rank" run_np 1 "$DSC" compare -q -k 4 --seeds 2 --methods kmeans,kmeans-anomalies \
  --truth "$D/truth.csv" -o "$WORK/cmp1" "$D"/era5_2001.nc "$D"/era5_2002.nc
check "k-means rows: the same figures at 1 and 2 ranks (time columns aside)" sh -c \
  "cut -d, -f1-23 '$WORK/cmp1/compare.csv' > '$WORK/c1' && grep -E '^(method|kmeans|kmeans-anomalies),' '$WORK/cmp2/compare.csv' | cut -d, -f1-23 > '$WORK/c2' && cmp '$WORK/c1' '$WORK/c2'"
if "$PYTHON" -c 'import matplotlib, netCDF4' 2> /dev/null; then
  check "the dtc rows come from DTC runs (metrics.json variant, latent of ceil(7 x 16 x 16 / 10) = 180 positions)" \
  "$PYTHON" -c "
import json, sys, netCDF4
for s in (1, 2):
    r = sys.argv[1] + '/runs/dtc/seed%d/' % s
    assert json.load(open(r + 'metrics.json'))['variant'] == 'dtc'
    assert netCDF4.Dataset(r + 'latent.nc').variables['z'].shape[1] == 180" "$WORK/cmp2"
check "dsc-plot draws the comparison" "$top_builddir/dsc-plot" --no-tsne "$WORK/cmp2"
  check "compare.png: 8 metric rows at 100 dpi are 1000x2000 pixels" sh -c \
    "$PYTHON -c 'import struct,sys; b=open(sys.argv[1],\"rb\").read(24); sys.exit(struct.unpack(\">II\", b[16:24]) != (1000, 2000))' '$WORK/cmp2/compare.png'"
else
  skip "dsc-plot draws the comparison" "matplotlib or netCDF4 is not available to $PYTHON"
fi
check "dsc compare --sample 300: each run scored on the subset of its own seed (its own metrics.json)" run_np 2 "$DSC" compare -q -k 4 \
  --seeds 2 --methods kmeans --sample 300 --truth "$D/truth.csv" -o "$WORK/cmps" "$D"/era5_2001.nc
check "the --sample rows equal the runs' own metrics" "$PYTHON" "$top_srcdir/tests/compare_check.py" "$WORK/cmps" 2 kmeans
# The persistent methods: the same commands with --persistence Nd of compare.
check "dsc compare: the persistent methods (k-means on anomalies, EOF, cosine, DSC on anomalies), 2 seeds" run_np 2 "$DSC" \
  compare -q -k 4 --seeds 2 --persistence 6d --pca 5 --truth "$D/truth.csv" --train-options "$NET" -o "$WORK/cmpp" \
  --methods kmeans-anomalies,kmeans-anomalies-persistent,eof-kmeans-persistent,cosine-kmeans-persistent,dsc-anomalies-persistent,dsc-anomalies-persistent-target \
  "$D"/era5_2001.nc "$D"/era5_2002.nc
check "compare.csv and compare.md of the persistent methods summarise their runs" "$PYTHON" "$top_srcdir/tests/compare_check.py" \
  "$WORK/cmpp" 2 kmeans-anomalies kmeans-anomalies-persistent eof-kmeans-persistent cosine-kmeans-persistent dsc-anomalies-persistent \
  dsc-anomalies-persistent-target
check "every persistent run asked for 6-day episodes, as compare.csv says; the plain run did not" "$PYTHON" -c "
import csv, json, sys
runs = '$WORK/cmpp/runs/'
for m in ['kmeans-anomalies-persistent', 'eof-kmeans-persistent', 'cosine-kmeans-persistent', 'dsc-anomalies-persistent',
          'dsc-anomalies-persistent-target']:
    for s in (1, 2):
        if json.load(open(runs + m + '/seed%d/metrics.json' % s))['persistence']['target_days'] != 6: sys.exit(1)
if 'persistence' in json.load(open(runs + 'kmeans-anomalies/seed1/metrics.json')): sys.exit(2)
rows = {r['method']: r['command'] for r in csv.DictReader(open('$WORK/cmpp/compare.csv'))}
sys.exit(0 if all(('--persistence 6d' in c) == ('-persistent' in m) and ('--persistence-target' in c) == m.endswith('-target')
                   for m, c in rows.items()) else 3)"
check "the persistent k-means rows have longer episodes than the plain one" "$PYTHON" -c "
import csv, sys
rows = {r['method']: r for r in csv.DictReader(open('$WORK/cmpp/compare.csv'))}
col = [c for c in rows['kmeans-anomalies'] if c.startswith('episode_days') and 'mean' in c][0]
sys.exit(0 if float(rows['kmeans-anomalies-persistent'][col]) > float(rows['kmeans-anomalies'][col]) else 1)"
expect_error "compare --persistence without d" "option --persistence: '5' is not a mean episode length in days such as 5d" \
  run_np 1 "$DSC" compare -k 4 --seeds 1 --methods kmeans --persistence 5 -o "$WORK/refused" "$D"/era5_2001.nc

# --train-options carries training settings only: an option that defines the
# experiment (clusters, seeds, data, method, pre-processing, outputs) is
# refused with compare's own option to use, before anything runs or is written
for t in "-k 9:-k.*--clusters.*use compare's own -k K" "--clusters=9:--clusters=9.*own -k K" "-k9:-k9.*own -k K" \
  "--max-iter 2 --vars t2m:--vars.*same data: use compare's own --vars" "--variant dec:--variant.*--methods" \
  "--variant=cnn-encoder:--variant=cnn-encoder.*--methods" "--steps 2:--steps.*compare's --steps S" \
  "--persistence 5d:--persistence.*compare's --persistence Nd" \
  "--time-range=2001-01-01/:--time-range=.*own --time-range" "--daily-mean:--daily-mean.*own --daily-mean" \
  "--box 40,50,0,10:--box.*own --box" "--anomalies:--anomalies.*pre-processing" "--scaling cell:--scaling.*pre-processing" \
  "--harmonics 2:--harmonics.*pre-processing" "--seed 3:--seed.*--seeds N" "-o x:'-o'.*own -o DIR" "--output=x:--output=x.*own -o DIR" \
  "--truth t.csv:--truth.*own --truth" "--sample 9:--sample.*own --sample" "--config c.txt:--config.*into --train-options" \
  "--resume r:--resume.*afresh" "--force:--force.*own --force" "--help:--help.*dsc train --help" \
  "--lr:'--lr' needs a value" "--lr=:'--lr=' needs a value" "--check-replicas=1:takes no value" "--bogus 1:'--bogus' is not an option of dsc train" \
  "extra.nc:'extra.nc' is not an option.*input files" "-- x.nc:'--' is not an option"; do
  rm -rf "$WORK/refused"
  expect_error "--train-options \"${t%%:*}\" refused" "train-options: .*${t#*:}" \
    run_np 1 "$DSC" compare -k 4 --seeds 1 --methods kmeans,dsc --train-options "${t%%:*}" -o "$WORK/refused" "$D"/era5_2001.nc
  [ -e "$WORK/refused" ] && fail "--train-options \"${t%%:*}\": $WORK/refused was created"
done
check "the training settings are passed on: --optimizer=sgd -b 16 --max-iter 2 (config.txt of the run)" sh -c \
  "$(echo "$TESTMPIRUN" | sed "s/NP/2/") '$DSC' compare -q -k 3 --seeds 1 --methods dsc --train-options '$NET --optimizer=sgd -b16 --max-iter 2' \
   -o '$WORK/cmpt' '$D'/era5_2001.nc && grep -qx 'optimizer = sgd' '$WORK/cmpt/runs/dsc/seed1/config.txt' \
   && grep -qx 'batch = 16' '$WORK/cmpt/runs/dsc/seed1/config.txt' && grep -qx 'clusters = 3' '$WORK/cmpt/runs/dsc/seed1/config.txt' \
   && grep -q 'K = 3' '$WORK/cmpt/compare.md'"
# the data options are checked before any method runs (not by the first method after the others ran)
for t in "2050-01-01/2051-01-01:--time-range: no time steps between 2050-01-01" "garbage:--time-range: 'garbage' is not START/END" \
  "2001-03-01/2001-02-01:START 2001-03-01 is after END"; do
  rm -rf "$WORK/early"
  expect_error "--time-range ${t%%:*} refused before any method runs" "${t#*:}" \
    run_np 2 "$DSC" compare -k 4 --seeds 1 --methods kmeans,dsc --time-range "${t%%:*}" -o "$WORK/early" "$D"/era5_2001.nc
  [ -e "$WORK/early" ] && fail "--time-range ${t%%:*}: $WORK/early was created"
done
expect_error "-k larger than the time steps, before any method runs" "-k 40 clusters for 31 time steps" \
  run_np 2 "$DSC" compare -k 40 --seeds 1 --methods kmeans,dsc --time-range 2001-01-01/2001-01-31 -o "$WORK/early" "$D"/era5_2001.nc
expect_error "a --truth file that does not exist, before any method runs" "nosuch.csv: cannot open labels" \
  run_np 2 "$DSC" compare -k 4 --seeds 1 --methods kmeans --truth "$WORK/nosuch.csv" -o "$WORK/early" "$D"/era5_2001.nc
expect_error "--pca of eof-kmeans above the time steps, before any method runs" "--pca 40 components \(eof-kmeans\) for 31 time steps" \
  run_np 2 "$DSC" compare -k 4 --seeds 1 --methods kmeans,eof-kmeans --pca 40 --time-range 2001-01-01/2001-01-31 -o "$WORK/early" "$D"/era5_2001.nc
check "no output folder after those errors" test ! -e "$WORK/early"
check "100 input files (one file named 100 times) reach every run" sh -c \
  "$(echo "$TESTMPIRUN" | sed "s/NP/1/") '$DSC' compare -q -k 3 --seeds 1 --methods kmeans -o '$WORK/many' \
   $(for i in $(seq 100); do printf '%s ' "$D/era5_2001.nc"; done) 2> /dev/null && test -s '$WORK/many/compare.csv'"
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
