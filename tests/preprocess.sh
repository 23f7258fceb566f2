#!/bin/sh
# preprocess.sh - pre-processing: the unit tests of tests/test_preprocess at
# 1, 2 and 3 ranks (process grid, tiles -> samples, statistics, reader
# errors), then fill, anomalies, scaling per variable / per cell and padding
# of read data against a numpy reimplementation (tests/reader_compare.py).
. ./tests/testenv.sh

READ=./tests/test_read
CMP="$PYTHON $top_srcdir/tests/reader_compare.py"

# ---- unit tests, each of their TAP lines relayed
for np in 1 2 3; do
  run_np "$np" ./tests/test_preprocess "$WORK" > "$WORK/unit.$np" 2> "$WORK/unit.$np.err"
  rc=$?
  while IFS= read -r line; do
    case $line in
      "ok "*) pass "[$np ranks] ${line#ok * - }" ;;
      "not ok "*) fail "[$np ranks] ${line#not ok * - }" ;;
    esac
  done < "$WORK/unit.$np"
  if [ $rc -ne 0 ] || ! grep -q "^1\.\.[1-9]" "$WORK/unit.$np"; then
    cat "$WORK/unit.$np.err" > "$WORK/log"
    fail "[$np ranks] tests/test_preprocess exits 0 with a plan"
  fi
done

"$PYTHON" -c 'import netCDF4, numpy' 2> /dev/null || { skip "numpy comparisons" "$PYTHON has no netCDF4/numpy"; tap_done; }

# prep NP GRID OUT [OPTIONS] FILES...: OUT.raw, OUT.t, OUT.x; returns the status
prep() {
  _np=$1 _grid=$2 _out=$3; shift 3
  run_np "$_np" "$READ" --process-grid "$_grid" --raw "$_out.raw" --times "$_out.t" -o "$_out.x" "$@" > "$WORK/log" 2>&1
}
# numpy DESC OUT Y,X,V [--scaling cell] [--anomalies]
numpy() {
  _desc=$1 _out=$2 _grid=$3; shift 3
  if $CMP preprocess --raw "$_out.raw" --times "$_out.t" --out "$_out.x" --grid "$_grid" "$@" > "$WORK/log" 2>&1
  then pass "$_desc"; else fail "$_desc"; fi
}

# ---- seven variables (sst has missing values over land), odd grid -> 48 x 64
check "synth writes two years on a 37x53 grid" "$DSC" synth -q -o "$WORK/s" --years 2001-2002 --grid 37x53 --regimes 4
for mode in "" "--scaling cell" "--anomalies" "--scaling cell --anomalies"; do
  # shellcheck disable=SC2086
  if prep 2 auto "$WORK/a" $mode "$WORK"/s/era5_*.nc; then
    # shellcheck disable=SC2086
    numpy "7 variables, 37x53 padded to 48x64, ${mode:-per variable} (2 ranks): equals numpy to 1e-6" "$WORK/a" 37,53,7 $mode
  else fail "read and pre-process ${mode:-per variable} at 2 ranks"; fi
done
if prep 1 auto "$WORK/one" --scaling cell --anomalies "$WORK"/s/era5_*.nc &&
   prep 3 1x3x1 "$WORK/three" --scaling cell --anomalies "$WORK"/s/era5_*.nc &&
   cmp "$WORK/one.x" "$WORK/three.x" > "$WORK/log" 2>&1
then pass "per cell with anomalies: 3 ranks (1x3x1) give the bytes of 1 rank"
else fail "per cell with anomalies: 3 ranks (1x3x1) give the bytes of 1 rank"; fi

# ---- forty years of one variable: a real day-of-year climatology
check "synth writes forty yearly files of sp on a 7x9 grid" "$DSC" synth -q -o "$WORK/m" --years 1961-2000 --grid 7x9 --vars sp
for mode in "--anomalies" "--scaling cell --anomalies"; do
  # shellcheck disable=SC2086
  if prep 3 auto "$WORK/m" $mode "$WORK"/m/era5_*.nc; then
    # shellcheck disable=SC2086
    numpy "forty years, one variable, $mode (3 ranks): equals numpy to 1e-6" "$WORK/m" 7,9,1 $mode
  else fail "read forty files $mode at 3 ranks"; fi
done

# ---- a small file with a cell that is always missing: its fill value is
# the variable's mean, which per-variable scaling places inside [0, 1]
if [ -n "$NCGEN" ] && "$NCGEN" -k nc6 -o "$WORK/expver.nc" "$top_srcdir/tests/data/reader_expver.cdl"; then
  if prep 2 1x2x1 "$WORK/e" "$WORK/expver.nc"; then
    numpy "a cell that is always missing, per variable (2 ranks): fill equals numpy" "$WORK/e" 3,4,1
  else fail "read the expver file at 2 ranks"; fi
else
  skip "a cell missing in some steps" "ncgen not found"
fi
tap_done
