#!/bin/sh
# preprocess.sh - pre-processing: the unit tests of tests/test_preprocess at
# 1, 2 and 3 ranks (process grid, tiles -> samples, statistics, harmonic
# climatology, reader errors), the pre-processing options' errors, then
# fill, anomalies (harmonic and daily climatology), scaling per variable /
# per cell and padding of read data against a numpy reimplementation
# (tests/reader_compare.py; the harmonic fit against np.linalg.lstsq per
# cell), on daily and 6-hourly data.
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

# ---- option errors: one line naming the option
check "synth writes one year on a 5x6 grid" "$DSC" synth -q -o "$WORK/y" --years 2001 --grid 5x6 --vars sp
expect_error "--climatology monthly is refused naming the option" "option --climatology: 'monthly' is not 'harmonic' or 'daily'" \
  run_np 2 "$READ" --anomalies --climatology monthly "$WORK"/y/era5_2001.nc
expect_error "--harmonics 7 is refused naming the option and the range" "option --harmonics: 7 is outside \[0, 6\]" \
  run_np 2 "$READ" --anomalies --harmonics 7 "$WORK"/y/era5_2001.nc
expect_error "--harmonics two is refused naming the option" "option --harmonics: 'two' is not an integer" \
  run_np 2 "$READ" --anomalies --harmonics two "$WORK"/y/era5_2001.nc
expect_error "dsc eval --climatology hourly is refused naming the option" "dsc eval: option --climatology: 'hourly'" \
  "$DSC" eval --labels "$WORK/none.csv" --anomalies --climatology hourly "$WORK"/y/era5_2001.nc
if "$DSC" eval --help 2>&1 | grep -q -- "--climatology harmonic|daily" && "$DSC" eval --help 2>&1 | grep -q -- "--harmonics N"
then pass "dsc eval --help lists --climatology and --harmonics"; else fail "dsc eval --help lists --climatology and --harmonics"; fi

"$PYTHON" -c 'import netCDF4, numpy' 2> /dev/null || { skip "numpy comparisons" "$PYTHON has no netCDF4/numpy"; tap_done; }

# prep NP GRID OUT [OPTIONS] FILES...: OUT.raw, OUT.t, OUT.p (before scaling), OUT.x; returns the status
prep() {
  _np=$1 _grid=$2 _out=$3; shift 3
  run_np "$_np" "$READ" --process-grid "$_grid" --raw "$_out.raw" --times "$_out.t" --prepared "$_out.p" -o "$_out.x" "$@" > "$WORK/log" 2>&1
}
# numpy DESC OUT Y,X,V [--scaling cell] [--anomalies] [--climatology K] [--harmonics N]
numpy() {
  _desc=$1 _out=$2 _grid=$3; shift 3
  if $CMP preprocess --raw "$_out.raw" --times "$_out.t" --out "$_out.x" --grid "$_grid" "$@" > "$WORK/log" 2>&1
  then pass "$_desc"; else fail "$_desc"; fi
}
# lstsq DESC OUT Y,X,V [--climatology K] [--harmonics N]: the anomalies before scaling, to 1e-6 of the variable's scale
lstsq() {
  _desc=$1 _out=$2 _grid=$3; shift 3
  if $CMP anomalies --raw "$_out.raw" --times "$_out.t" --prepared "$_out.p" --grid "$_grid" "$@" > "$WORK/log" 2>&1
  then pass "$_desc"; else fail "$_desc"; fi
}
# same DESC A B: two runs agree to 1e-6 (scaled values and anomalies relative to the variable's scale)
same() {
  if $CMP same --rtol 0 --atol 1e-6 "$2.x" "$3.x" > "$WORK/log" 2>&1 &&
     $CMP same --rtol 1e-6 --atol 1e-3 "$2.p" "$3.p" >> "$WORK/log" 2>&1
  then pass "$1"; else fail "$1"; fi
}

# ---- seven variables (sst has missing values over land), odd grid -> 48 x 64
check "synth writes two years on a 37x53 grid" "$DSC" synth -q -o "$WORK/s" --years 2001-2002 --grid 37x53 --regimes 4
for mode in "" "--anomalies --climatology daily" "--scaling cell --anomalies --climatology daily" \
            "--anomalies" "--scaling cell --anomalies --harmonics 1"; do
  # shellcheck disable=SC2086
  if prep 2 auto "$WORK/a" $mode "$WORK"/s/era5_*.nc; then
    # shellcheck disable=SC2086
    numpy "7 variables, 37x53 padded to 48x64, ${mode:-per variable} (2 ranks): equals numpy to 1e-6" "$WORK/a" 37,53,7 $mode
    case $mode in
      *"--anomalies"*) # shellcheck disable=SC2086
        lstsq "7 variables, $mode (2 ranks): anomalies before scaling equal numpy's to 1e-6 of the scale" "$WORK/a" 37,53,7 $mode ;;
    esac
  else fail "read and pre-process ${mode:-per variable} at 2 ranks"; fi
done
if prep 1 auto "$WORK/one" --scaling cell --anomalies --climatology daily "$WORK"/s/era5_*.nc &&
   prep 3 1x3x1 "$WORK/three" --scaling cell --anomalies --climatology daily "$WORK"/s/era5_*.nc &&
   cmp "$WORK/one.x" "$WORK/three.x" > "$WORK/log" 2>&1
then pass "per cell with daily anomalies: 3 ranks (1x3x1) give the bytes of 1 rank"
else fail "per cell with daily anomalies: 3 ranks (1x3x1) give the bytes of 1 rank"; fi
for np in 1 2 3; do
  prep $np auto "$WORK/h$np" --scaling cell --anomalies "$WORK"/s/era5_*.nc || fail "read with harmonic anomalies at $np ranks"
done
same "per cell with harmonic anomalies: 2 ranks give the values of 1 rank to 1e-6" "$WORK/h1" "$WORK/h2"
same "per cell with harmonic anomalies: 3 ranks give the values of 1 rank to 1e-6" "$WORK/h1" "$WORK/h3"

# ---- 6-hourly steps without --daily-mean: one harmonic fit per hour of day
check "synth writes two years of 6-hourly steps on a 9x11 grid" "$DSC" synth -q -o "$WORK/q" --years 2001-2002 --grid 9x11 --steps-per-day 4
if prep 3 auto "$WORK/q" --anomalies "$WORK"/q/era5_*.nc; then
  lstsq "6-hourly, 7 variables (3 ranks): anomalies equal numpy's per-hour lstsq to 1e-6 of the scale" "$WORK/q" 9,11,7 --anomalies
  numpy "6-hourly, 7 variables (3 ranks): scaled values equal numpy to 1e-6" "$WORK/q" 9,11,7 --anomalies
else fail "read 6-hourly data with anomalies at 3 ranks"; fi

# ---- forty years of one variable: a real day-of-year climatology
check "synth writes forty yearly files of sp on a 7x9 grid" "$DSC" synth -q -o "$WORK/m" --years 1961-2000 --grid 7x9 --vars sp
for mode in "--scaling cell --anomalies --climatology daily" "--anomalies"; do
  # shellcheck disable=SC2086
  if prep 3 auto "$WORK/m" $mode "$WORK"/m/era5_*.nc; then
    # shellcheck disable=SC2086
    numpy "forty years, one variable, $mode (3 ranks): equals numpy to 1e-6" "$WORK/m" 7,9,1 $mode
  else fail "read forty files $mode at 3 ranks"; fi
done
lstsq "forty years, one variable: harmonic anomalies equal numpy's lstsq to 1e-6 of the scale" "$WORK/m" 7,9,1 --anomalies

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
