#!/bin/sh
# persistence.sh - dsc kmeans --persistence (the jump model: a penalty per
# switch of regime along time, src/cluster/kmeans_persistent.c) end to end on
# synth data with 7-day regimes and a gap (the years 2001 and 2003):
# --persistence 0 is plain k-means byte for byte; 1, 2 and 3 ranks give the
# same labels; a wanted mean episode length lengthens the episodes towards it;
# episodes never run across the gap; a huge penalty leaves one label per
# segment; metrics.json reports the penalty; bad values are one error line.
. ./tests/testenv.sh

"$PYTHON" -c 'import numpy' 2>/dev/null || skip_all "numpy is not available to $PYTHON"
D="$WORK/data"
"$DSC" synth -q --years 2001-2003 --grid 12x12 --vars t2m,sp,u10 --persistence 7 --seed 4 -o "$D" > "$WORK/log" 2>&1 ||
  { fail "synth data"; tap_done; }
rm "$D/era5_2002.nc"
FILES="$D/era5_2001.nc $D/era5_2003.nc"
km() { # NAME NP OPTIONS...
  _n=$1 _np=$2; shift 2
  run_np "$_np" "$DSC" kmeans -q -k 5 --anomalies --pca 8 --seed 2 --force -o "$WORK/$_n" "$@" $FILES > "$WORK/log" 2>&1
}
# mean episode length (days) of labels.csv, episodes cut where the dates are not consecutive
episodes() {
  "$PYTHON" - "$1" <<'PY'
import csv, datetime, sys
rows = list(csv.reader(open(sys.argv[1])))[1:]
days = [datetime.date.fromisoformat(r[0][:10]) for r in rows]
labels = [r[1] for r in rows]
runs = 1
for i in range(1, len(rows)):
    if labels[i] != labels[i - 1] or (days[i] - days[i - 1]).days != 1:
        runs += 1
print(len(rows) / runs)
PY
}

km plain 2 && km zero 2 --persistence 0
check "--persistence 0: labels.csv and labels.nc of plain k-means" sh -c \
  "cmp '$WORK/plain/labels.csv' '$WORK/zero/labels.csv' && cmp '$WORK/plain/labels.nc' '$WORK/zero/labels.nc'"
check "--persistence 0: no persistence key in metrics.json" sh -c "! grep -q persistence '$WORK/zero/metrics.json'"

for np in 1 2 3; do km days$np $np --persistence 7d || fail "--persistence 7d on $np ranks runs"; done
check "--persistence 7d: the same labels on 1, 2 and 3 ranks" sh -c \
  "cmp '$WORK/days1/labels.csv' '$WORK/days2/labels.csv' && cmp '$WORK/days1/labels.csv' '$WORK/days3/labels.csv'"
km pen1 1 --persistence 0.5 && km pen3 3 --persistence 0.5
check "--persistence 0.5: the same labels on 1 and 3 ranks" cmp "$WORK/pen1/labels.csv" "$WORK/pen3/labels.csv"

plain=$(episodes "$WORK/plain/labels.csv")
seven=$(episodes "$WORK/days1/labels.csv")
echo "plain $plain days, --persistence 7d $seven days" > "$WORK/log"
check "--persistence 7d: mean episode $seven days, longer than plain k-means's $plain and within 5-9.5 days" "$PYTHON" -c "
import sys; p, s = $plain, $seven; sys.exit(0 if s > p and 5 <= s <= 9.5 else 1)"
check "metrics.json: the penalty chosen for 7 days, the switches and alternations" "$PYTHON" -c "
import json, sys
m = json.load(open('$WORK/days1/metrics.json'))['persistence']
sys.exit(0 if m['lambda'] > 0 and m['target_days'] == 7 and m['switches'] > 0 and m['alternations'] >= 1 else 1)"

check "metrics.json: the switches are those of labels.csv inside the two years, none across the gap" "$PYTHON" -c "
import csv, datetime, json, sys
rows = list(csv.reader(open('$WORK/days1/labels.csv')))[1:]
d = [datetime.date.fromisoformat(r[0][:10]) for r in rows]
inside = sum(1 for i in range(1, len(rows)) if rows[i][1] != rows[i - 1][1] and (d[i] - d[i - 1]).days == 1)
across = rows[d.index(datetime.date(2003, 1, 1))][1] != rows[d.index(datetime.date(2003, 1, 1)) - 1][1]
m = json.load(open('$WORK/days1/metrics.json'))['persistence']
print(inside, across, m['switches'])
sys.exit(0 if m['switches'] == inside and across else 1)"

km huge 2 --persistence 1e12
check "a huge penalty: one label per year, switching only at the gap" "$PYTHON" -c "
import csv, sys
rows = list(csv.reader(open('$WORK/huge/labels.csv')))[1:]
by_year = {}
for t, l in rows: by_year.setdefault(t[:4], set()).add(l)
sys.exit(0 if sorted(by_year) == ['2001', '2003'] and all(len(s) == 1 for s in by_year.values()) else 1)"
check "metrics.json: no switch counted across the gap" "$PYTHON" -c "
import json, sys
sys.exit(0 if json.load(open('$WORK/huge/metrics.json'))['persistence']['switches'] == 0 else 1)"

for bad in -1 abc 0d 5x nan; do
  expect_error "--persistence $bad: one error naming the option" "option --persistence: '$bad' is not a penalty" \
    "$DSC" kmeans -k 5 --persistence "$bad" -o "$WORK/bad" $FILES
done
check "the refused runs wrote nothing" test ! -e "$WORK/bad"
tap_done
