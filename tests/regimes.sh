#!/bin/sh
# regimes.sh - the life cycle of a labelling (metrics.json "regimes", the
# life-cycle variables of labels.nc) against numpy (tests/regime_stats_check.py)
# computed from labels.csv alone: dsc kmeans at 1 and 3 ranks on two years
# that are not consecutive (a gap ends an episode), dsc eval --labels of the
# same labels, and 6-hourly steps (durations in days, not steps).  The numpy
# twin without the gap rule must disagree, so a run that joins episodes
# across the gap fails.
. ./tests/testenv.sh

"$PYTHON" -c 'import netCDF4, numpy' 2>/dev/null || skip_all "numpy or netCDF4 is not available to $PYTHON"
CHECK="$top_srcdir/tests/regime_stats_check.py"
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
D="$WORK/data"
H="$WORK/hourly"

check "dsc synth writes 3 years on an 8x8 grid" "$DSC" synth -q -o "$D" --years 2001-2003 --grid 8x8 --resolution 1 --regimes 4
for np in 1 3; do
  check "kmeans at $np rank(s) on 2001 and 2003 (a gap of a year)" sh -c \
    "$(launcher $np) '$DSC' kmeans -q -k 4 -o '$WORK/k$np' '$D/era5_2001.nc' '$D/era5_2003.nc' 2>/dev/null"
  check "kmeans at $np rank(s): metrics.json and labels.nc match numpy" \
    "$PYTHON" "$CHECK" "$WORK/k$np/metrics.json" "$WORK/k$np/labels.csv" "$WORK/k$np/labels.nc"
done
check "labels.nc: identical bytes at 1 and 3 ranks" cmp "$WORK/k1/labels.nc" "$WORK/k3/labels.nc"
check "the check fails when episodes are not split at the gap" \
  "$PYTHON" "$CHECK" "$WORK/k3/metrics.json" "$WORK/k3/labels.csv" "$WORK/k3/labels.nc" --ignore-gaps
check "eval --labels at 2 ranks: the regimes of the kmeans labels match numpy" sh -c \
  "$(launcher 2) '$DSC' eval --labels '$WORK/k1/labels.csv' -o '$WORK/eval.json' '$D/era5_2001.nc' '$D/era5_2003.nc' >/dev/null 2>&1 \
   && '$PYTHON' '$CHECK' '$WORK/eval.json' '$WORK/k1/labels.csv'"
check "eval --labels: the same regimes as kmeans wrote" "$PYTHON" -c \
  'import json, sys; a, b = (json.load(open(p))["regimes"] for p in sys.argv[1:]); sys.exit(a != b)' \
  "$WORK/eval.json" "$WORK/k1/metrics.json"

check "dsc synth writes a 6-hourly year" "$DSC" synth -q -o "$H" --years 2001 --grid 8x8 --resolution 1 --regimes 3 --steps-per-day 4
check "kmeans at 2 ranks on 6-hourly steps" sh -c \
  "$(launcher 2) '$DSC' kmeans -q -k 3 -o '$WORK/h' '$H/era5_2001.nc'"
check "6-hourly: durations in days match numpy" "$PYTHON" "$CHECK" "$WORK/h/metrics.json" "$WORK/h/labels.csv" "$WORK/h/labels.nc"
tap_done
