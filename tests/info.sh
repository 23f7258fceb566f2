#!/bin/sh
# info.sh - dsc info on the files users feed it: the sample data set of
# dsc synth (legacy and CDF-5, several files, out of order, duplicated,
# with a gap) and real ERA5 (2 m temperature, March 2019, GRIB) converted
# to netCDF with CDO the ways users do.
. ./tests/testenv.sh

. "$top_srcdir/tests/info_helpers.sh"

# (expect_error runs its command under timeout, which cannot run the shell
# function run_np: the launcher is spelled out)
MPI2=$(echo "$TESTMPIRUN" | sed "s/NP/2/")

# ---- dsc synth ----
S="$WORK/s"; C="$WORK/c"
if "$DSC" synth -q -o "$S" --years 2001-2003 --grid 12x10 > "$WORK/log" 2>&1 &&
   "$DSC" synth -q -o "$C" --years 2001-2002 --grid 12x10 --encoding cdf5 > "$WORK/log" 2>&1 &&
   "$DSC" synth -q -o "$WORK/t" --years 2002 --grid 12x10 --vars t2m,sst,sp,sshf,slhf,u10 > "$WORK/log" 2>&1; then
  pass "dsc synth writes the sample files"
else
  fail "dsc synth writes the sample files"
fi
SEVEN=vars=sst,sp,sshf,slhf,t2m,u10,v10
for np in 1 2 3; do
  check_info "synth legacy, 2 files at $np ranks" $np $SEVEN files=era5_2001.nc,era5_2002.nc grid.nlat=12 grid.nlon=10 \
    grid.lat_first=45 grid.lon_first=-30 time.count=730 time.first=2001-01-01T00:00:00 time.last=2002-12-31T00:00:00 \
    time.step_hours=24 var.t2m.packed=true var.t2m.type=int16 var.sp.missing=0 var.t2m.units=K \
    "file.0.format=64-bit offset" -- "$S/era5_2001.nc" "$S/era5_2002.nc"
done
check_info "synth cdf5 reports the same variables, grid and times" 2 $SEVEN files=era5_2001.nc,era5_2002.nc \
  grid.nlat=12 grid.nlon=10 time.count=730 time.first=2001-01-01T00:00:00 time.last=2002-12-31T00:00:00 \
  time.step_hours=24 var.t2m.packed=false var.t2m.type=float32 var.sp.missing=0 file.0.format=CDF-5 file.1.format=CDF-5 \
  -- "$C/era5_2001.nc" "$C/era5_2002.nc"
# the legacy and cdf5 sample have the same missing values (land in sst)
"$DSC" info --json "$S/era5_2001.nc" "$S/era5_2002.nc" > "$WORK/legacy.json" 2> /dev/null
"$DSC" info --json "$C/era5_2001.nc" "$C/era5_2002.nc" > "$WORK/cdf5.json" 2> /dev/null
check "legacy and cdf5 samples have the same missing counts" "$PYTHON" -c "
import json, sys
a = json.load(open('$WORK/legacy.json')); b = json.load(open('$WORK/cdf5.json'))
ma = [v['missing'] for v in a['variables']]; mb = [v['missing'] for v in b['variables']]
print(ma, mb); sys.exit(0 if ma == mb and sum(ma) > 0 else 1)"
check_twin "netCDF4-python agrees on the legacy sample" "$S/era5_2001.nc" "$S/era5_2002.nc"
check_twin "netCDF4-python agrees on the cdf5 sample" "$C/era5_2001.nc" "$C/era5_2002.nc"
check_info "files given out of order are read in time order" 3 files=era5_2001.nc,era5_2002.nc,era5_2003.nc \
  time.count=1095 time.first=2001-01-01T00:00:00 time.last=2003-12-31T00:00:00 \
  -- "$S/era5_2003.nc" "$S/era5_2001.nc" "$S/era5_2002.nc"
check_info "a file given twice: one warning, its steps kept once" 2 time.count=730 \
  "warning=365 duplicated time steps \\(the first: 2002-01-01T00:00:00, in .*era5_2002\\.nc and again in .*era5_2002\\.nc\\); kept the first" \
  -- "$S/era5_2001.nc" "$S/era5_2002.nc" "$S/era5_2002.nc"
check_info "a missing year: one warning naming the first gap" 2 time.count=730 time.step_hours=24 \
  time.last=2003-12-31T00:00:00 "warning=1 gaps in the time steps \\(the first: 2001-12-31T00:00:00 to 2003-01-01T00:00:00" \
  -- "$S/era5_2001.nc" "$S/era5_2003.nc"
check_info "--time-range and --vars across files" 2 vars=u10,t2m time.count=62 time.first=2001-12-01T00:00:00 \
  time.last=2002-01-31T00:00:00 var.t2m.nc_name=t2m -- --vars 10u,2t --time-range 2001-12-01/2002-01-31 \
  "$S/era5_2001.nc" "$S/era5_2002.nc"
# files of other time steps are not merged by variable: a year without v10 is named, in either order
expect_error "a variable missing in the second file" "era5_2002\\.nc: no file given holds variable v10 for its time steps" \
  $MPI2 "$DSC" info "$S/era5_2001.nc" "$WORK/t/era5_2002.nc"
expect_error "a variable missing in the first file given" "era5_2002\\.nc: no file given holds variable v10 for its time steps" \
  $MPI2 "$DSC" info "$WORK/t/era5_2002.nc" "$S/era5_2001.nc"
check_info "common variables chosen with --vars" 2 vars=t2m,sst time.count=730 -- --vars t2m,sst \
  "$S/era5_2001.nc" "$WORK/t/era5_2002.nc"
"$DSC" synth -q -o "$WORK/g" --years 2002 --grid 10x12 > /dev/null 2>&1
expect_error "a file on another grid" "era5_2002\\.nc: grid 10x12 differs from .*era5_2001\\.nc 12x10" \
  $MPI2 "$DSC" info "$S/era5_2001.nc" "$WORK/g/era5_2002.nc"

# ---- non-finite values and a list of missing values ----
# t2m holds +Inf and -Inf (3 values), which are missing like _FillValue;
# u10 lists three values in missing_value, each of them missing (with the
# fill value, 4 values; netCDF4-python masks the same 4)
NF="$WORK/nonfinite.nc"
"$NCGEN" -k 64-bit-offset -o "$NF" "$top_srcdir/tests/data/reader_nonfinite.cdl" || fail "ncgen reader_nonfinite.cdl"
for np in 1 2 3; do
  check_info "Inf and every missing_value entry count as missing at $np ranks" $np vars=t2m,u10 time.count=6 \
    var.t2m.missing=3 var.u10.missing=4 -- "$NF"
done
printf 'time,label\n2019-01-06,0\n2019-01-07,0\n2019-01-08,0\n2019-01-09,1\n2019-01-10,1\n2019-01-11,1\n' > "$WORK/nf.csv"
for np in 2 3; do
  rm -f "$WORK/nf.json"
  check "dsc eval on data with Inf gives finite metrics at $np ranks" sh -c "$(echo "$TESTMPIRUN" | sed "s/NP/$np/") '$DSC' eval -l '$WORK/nf.csv' -o '$WORK/nf.json' '$NF' &&
  '$PYTHON' -c \"
import json, math, sys
m = json.load(open('$WORK/nf.json'))
keys = ('silhouette', 'silhouette_cosine', 'davies_bouldin', 'rmse_mean', 'avg_variance', 'avg_inter_cluster_distance')
print({k: m[k] for k in keys})
sys.exit(0 if all(isinstance(m[k], float) and math.isfinite(m[k]) for k in keys) else 1)\""
done

# ---- real ERA5 through CDO ----
if [ -z "$CDO" ]; then
  skip "real ERA5 converted with cdo" "cdo not found"
  tap_done
fi
G="$top_srcdir/tests/data/era5-2mt-2019-03-uk.grib"
"$CDO" -s -f nc copy "$G" "$WORK/t2m.nc" > "$WORK/log" 2>&1 &&
"$CDO" -s -f nc2 -b I16 copy "$G" "$WORK/t2m_i16.nc" >> "$WORK/log" 2>&1 &&
"$CDO" -s -f nc5 daymean "$G" "$WORK/t2m_daily.nc" >> "$WORK/log" 2>&1 && pass "cdo converts the GRIB file" ||
  fail "cdo converts the GRIB file"
HOURLY="vars=t2m var.t2m.nc_name=2t var.t2m.units=K grid.nlat=33 grid.nlon=49 grid.lat_first=58 grid.lat_last=50
grid.lon_first=-10 grid.lon_last=2 grid.lat_resolution=0.25 time.count=744 time.first=2019-03-01T00:00:00
time.last=2019-03-31T23:00:00 time.step_hours=1 var.t2m.missing=0 file.0.time_is_record=true"
# shellcheck disable=SC2086
check_info "cdo -f nc copy: float, 2t as t2m" 2 $(echo $HOURLY) var.t2m.type=float32 var.t2m.packed=false \
  "var.t2m.long_name=2 metre temperature" -- "$WORK/t2m.nc"
# shellcheck disable=SC2086
check_info "cdo -f nc2 -b I16 copy: int16, 64-bit offset" 3 $(echo $HOURLY) var.t2m.type=int16 \
  "file.0.format=64-bit offset" -- "$WORK/t2m_i16.nc"
check_info "cdo -f nc5 daymean: 31 daily steps, CDF-5" 2 vars=t2m grid.nlat=33 grid.nlon=49 time.count=31 \
  time.step_hours=24 time.first=2019-03-01T11:30:00 time.last=2019-03-31T11:30:00 file.0.format=CDF-5 \
  var.t2m.missing=0 -- "$WORK/t2m_daily.nc"
check_twin "netCDF4-python agrees on the int16 file" "$WORK/t2m_i16.nc"
check_info "--daily-mean of the hourly file" 2 time.count=31 time.first=2019-03-01T00:00:00 \
  time.last=2019-03-31T00:00:00 time.step_hours=24 time.steps=744 var.t2m.missing=0 -- --daily-mean "$WORK/t2m.nc"
check_info "--box on real data (latitude descending)" 2 grid.nlat=5 grid.nlon=9 grid.lat_first=55 grid.lat_last=54 \
  grid.lon_first=-5 grid.lon_last=-3 -- --box 54,55,-5,-3 "$WORK/t2m.nc"
run_np 1 "$DSC" info --json "$WORK/t2m_i16.nc" > "$WORK/np1.json" 2> /dev/null
run_np 3 "$DSC" info --json "$WORK/t2m_i16.nc" > "$WORK/np3.json" 2> /dev/null
check "the same report at 1 and 3 ranks" sh -c "[ -s '$WORK/np1.json' ] && cmp '$WORK/np1.json' '$WORK/np3.json'"
tap_done
