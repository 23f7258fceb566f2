#!/bin/sh
# reader.sh - the parallel reader: the same bytes at any rank count and
# process grid, the values netCDF4-python reads (it unpacks and masks by
# itself) for synthetic, hand-written (CDL) and real ERA5 files, and one
# clear error for bad input.
. ./tests/testenv.sh

. "$top_srcdir/tests/reader_helpers.sh"
CDL=$top_srcdir/tests/data
"$PYTHON" -c 'import netCDF4, numpy' 2> /dev/null || skip_all "$PYTHON has no netCDF4/numpy"
[ -n "$NCGEN" ] || skip_all "ncgen not found"
# the launcher for N ranks, spelled out: check and expect_error run their
# command under timeout, which cannot call the shell function run_np
mpi() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }

# ---- round trip: synth, then the same bytes at 1, 2, 3 ranks, any grid
check "synth writes two years on an odd 37x53 grid" "$DSC" synth -q -o "$WORK/s" --years 2001-2002 --grid 37x53 --regimes 4
if read_files 1 auto "$WORK/one" "$WORK"/s/era5_*.nc; then pass "read 2 files at 1 rank"; else fail "read 2 files at 1 rank"; fi
for spec in 2:2x1x1 2:1x2x1 2:1x1x2 2:auto:2x1x1 3:3x1x1 3:1x3x1 3:1x1x3 3:auto:3x1x1; do
  np=${spec%%:*}; rest=${spec#*:}; grid=${rest%%:*}; want=${rest#*:}
  if read_files "$np" "$grid" "$WORK/p" "$WORK"/s/era5_*.nc && grep -q "^grid $want\$" "$WORK/p.log" &&
     cmp "$WORK/one.raw" "$WORK/p.raw" >> "$WORK/log" 2>&1 && cmp "$WORK/one.x" "$WORK/p.x" >> "$WORK/log" 2>&1; then
    pass "$np ranks, --process-grid $grid: values and pre-processed matrix byte-identical to 1 rank"
  else
    fail "$np ranks, --process-grid $grid: values and pre-processed matrix byte-identical to 1 rank"
  fi
done
same_as_python "synth legacy (packed int16, CDF-2): values equal netCDF4's" "$WORK/one" "$WORK"/s/era5_*.nc

# box: offsets into the file grid
if read_files 3 1x3x1 "$WORK/box" --box 40,43,-25,-20 "$WORK"/s/era5_*.nc; then
  same_as_python "--box 40,43,-25,-20 at 3 ranks (1x3x1): values equal netCDF4's" "$WORK/box" --box 40,43,-25,-20 "$WORK"/s/era5_*.nc
else fail "--box read at 3 ranks"; fi

# time range across the two files, at 3 ranks
if read_files 3 auto "$WORK/tr" --time-range 2001-12-20/2002-01-10 "$WORK"/s/era5_*.nc; then
  same_as_python "--time-range 2001-12-20/2002-01-10 across two files at 3 ranks: values equal netCDF4's" "$WORK/tr" --time-range 2001-12-20/2002-01-10 "$WORK"/s/era5_*.nc
else fail "--time-range read at 3 ranks"; fi

# ---- the same data as float32 CDF-5
check "synth writes the same data as float32 CDF-5" "$DSC" synth -q -o "$WORK/s5" --years 2001-2002 --grid 37x53 --regimes 4 --encoding cdf5
if read_files 2 1x1x2 "$WORK/c5" "$WORK"/s5/era5_*.nc; then
  same_as_python "synth CDF-5 float32 at 2 ranks (1x1x2): values equal netCDF4's" "$WORK/c5" "$WORK"/s5/era5_*.nc
  if $CMP agree --vars "$(cat "$WORK/one.vars")" --legacy "$WORK/s/era5_2001.nc,$WORK/s/era5_2002.nc" "$WORK/one.raw" "$WORK/c5.raw" > "$WORK/log" 2>&1
  then pass "packed and float32 encodings agree to half a packing step"; else fail "packed and float32 encodings agree to half a packing step"; fi
else fail "read synth CDF-5 at 2 ranks"; fi

# ---- hand-written files
for f in packed_a packed_b expver fixed_time subdaily all_missing; do
  "$NCGEN" -k nc6 -o "$WORK/$f.nc" "$CDL/reader_$f.cdl" || fail "ncgen reader_$f.cdl"
done
"$NCGEN" -k nc5 -o "$WORK/fixed_time5.nc" "$CDL/reader_fixed_time.cdl" || fail "ncgen -k nc5 reader_fixed_time.cdl"
# files given out of time order: the reader follows the catalog's order
if read_files 2 2x1x1 "$WORK/ab" "$WORK/packed_b.nc" "$WORK/packed_a.nc"; then
  same_as_python "int16 packed differently per file, _FillValue != missing_value (2 ranks): values equal netCDF4's" "$WORK/ab" "$WORK/packed_a.nc" "$WORK/packed_b.nc"
else fail "read packed_a + packed_b at 2 ranks"; fi
if read_files 3 1x3x1 "$WORK/ab3" "$WORK/packed_a.nc" "$WORK/packed_b.nc" && cmp "$WORK/ab.raw" "$WORK/ab3.raw" > "$WORK/log" 2>&1
then pass "packed files at 3 ranks (1x3x1) read the same bytes"; else fail "packed files at 3 ranks (1x3x1) read the same bytes"; fi
if read_files 3 1x3x1 "$WORK/ev" "$WORK/expver.nc"; then
  same_as_python "expver dimension (ERA5 + ERA5T halves) at 3 ranks (1x3x1): the entry that is not missing" "$WORK/ev" "$WORK/expver.nc"
else fail "read the expver file at 3 ranks"; fi
for f in fixed_time fixed_time5; do
  if read_files 3 1x1x3 "$WORK/$f" "$WORK/$f.nc"; then
    same_as_python "$f: fixed time dimension, float/byte/int/double, NaN and default fill (3 ranks, 1x1x3)" "$WORK/$f" "$WORK/$f.nc"
  else fail "read $f at 3 ranks"; fi
done
for grid in 1x2x1 2x1x1; do
  if read_files 2 $grid "$WORK/sd" --daily-mean "$WORK/subdaily.nc"; then
    same_as_python "--daily-mean of 6-hourly steps with gaps (2 ranks, $grid) equals numpy's nanmean per day" "$WORK/sd" --daily-mean "$WORK/subdaily.nc"
  else fail "read subdaily at 2 ranks"; fi
done

# ---- one variable on an odd grid: one hourly file, and forty yearly files
check "synth writes one hourly year of t2m on a 37x53 grid" "$DSC" synth -q -o "$WORK/h" --years 2001 --grid 37x53 --vars t2m --hourly
if read_files 3 auto "$WORK/h" --daily-mean "$WORK/h/era5_2001.nc"; then
  same_as_python "one hourly file, one variable, --daily-mean at 3 ranks: numpy daily means" "$WORK/h" --daily-mean "$WORK/h/era5_2001.nc"
else fail "read the hourly file at 3 ranks"; fi
if read_files 3 1x0x0 "$WORK/hr" --daily-mean --time-range 2001-02-26/2001-03-02 "$WORK/h/era5_2001.nc"; then
  same_as_python "--daily-mean --time-range 2001-02-26/2001-03-02 at 3 ranks (1x3x1): numpy daily means" "$WORK/hr" --daily-mean --time-range 2001-02-26/2001-03-02 "$WORK/h/era5_2001.nc"
else fail "read a time range of the hourly file at 3 ranks"; fi
# requests cut to one step each: the 5 days split 2, 2, 1 over the ranks, so
# they join the collectives with 48, 48 and 24 requests per variable
export DSC_READ_CHUNK_BYTES=16000
if read_files 3 3x1x1 "$WORK/hc" --daily-mean --time-range 2001-02-26/2001-03-02 "$WORK/h/era5_2001.nc" &&
   cmp "$WORK/hr.raw" "$WORK/hc.raw" > "$WORK/log" 2>&1
then unset DSC_READ_CHUNK_BYTES; pass "reads cut into one-step requests give the same bytes"
else unset DSC_READ_CHUNK_BYTES; fail "reads cut into one-step requests give the same bytes"; fi
# a day straddling two files: the first 10 days of the hourly file cut at
# 11:00 of day 6 into two files; the straddling day belongs to the first
# file's segment and is read, from both files, by the rank that owns it
if "$PYTHON" - "$WORK/h/era5_2001.nc" "$WORK/cut" > "$WORK/log" 2>&1 <<'PY'
import sys, os, netCDF4
src = netCDF4.Dataset(sys.argv[1])
os.makedirs(sys.argv[2], exist_ok=True)
for name, lo, hi in (("a", 0, 5 * 24 + 11), ("b", 5 * 24 + 11, 10 * 24)):
    dst = netCDF4.Dataset(os.path.join(sys.argv[2], "era5_%s.nc" % name), "w", format="NETCDF3_64BIT_OFFSET")
    for d in src.dimensions.values():
        dst.createDimension(d.name, None if d.isunlimited() else len(d))
    for v in src.variables.values():
        v.set_auto_maskandscale(False)
        w = dst.createVariable(v.name, v.dtype, v.dimensions, fill_value=getattr(v, "_FillValue", None))
        w.setncatts({k: v.getncattr(k) for k in v.ncattrs() if k != "_FillValue"})
        w.set_auto_maskandscale(False)
        w[:] = v[lo:hi] if v.dimensions and v.dimensions[0] == "time" else v[:]
    dst.close()
PY
then
  read_files 1 auto "$WORK/cw" --daily-mean --time-range 2001-01-01/2001-01-10 "$WORK/h/era5_2001.nc"
  for spec in 1:auto 2:2x1x1 3:3x1x1 3:1x3x1; do
    np=${spec%%:*}; grid=${spec#*:}
    if read_files "$np" "$grid" "$WORK/cc" --daily-mean "$WORK"/cut/era5_*.nc && cmp "$WORK/cw.raw" "$WORK/cc.raw" >> "$WORK/log" 2>&1 &&
       cmp "$WORK/cw.t" "$WORK/cc.t" >> "$WORK/log" 2>&1
    then pass "a day straddling two files, $np ranks ($grid): the daily means of the uncut file"
    else fail "a day straddling two files, $np ranks ($grid): the daily means of the uncut file"; fi
  done
else fail "cut the hourly file in two mid-day"; fi
check "synth writes forty yearly files of sp on a 7x9 grid" "$DSC" synth -q -o "$WORK/m" --years 1961-2000 --grid 7x9 --vars sp
if read_files 3 0x1x1 "$WORK/m" "$WORK"/m/era5_*.nc; then
  same_as_python "forty files, one variable at 3 ranks: values equal netCDF4's" "$WORK/m" "$WORK"/m/era5_*.nc
else fail "read forty files at 3 ranks"; fi

# ---- real ERA5 (GRIB converted by cdo)
GRIB=$CDL/era5-2mt-2019-03-uk.grib
if [ -z "$CDO" ]; then
  for d in "cdo -f nc copy" "cdo -f nc2 -b I16 copy" "cdo -f nc5 daymean" "--daily-mean vs cdo daymean"; do skip "real ERA5: $d" "cdo not found"; done
else
  "$CDO" -s -f nc copy "$GRIB" "$WORK/t2m.nc" > "$WORK/log" 2>&1 &&
  "$CDO" -s -f nc2 -b I16 copy "$GRIB" "$WORK/t2m_i16.nc" >> "$WORK/log" 2>&1 &&
  "$CDO" -s -f nc5 daymean "$GRIB" "$WORK/t2m_day.nc" >> "$WORK/log" 2>&1 || fail "cdo converts the GRIB file"
  for f in t2m:2x1x1 t2m_i16:1x2x1 t2m_day:1x1x2; do
    n=${f%%:*}; grid=${f#*:}
    if read_files 2 "$grid" "$WORK/$n" "$WORK/$n.nc"; then
      same_as_python "real ERA5 $n.nc at 2 ranks ($grid): values equal netCDF4's" "$WORK/$n" "$WORK/$n.nc"
    else fail "read real ERA5 $n.nc at 2 ranks"; fi
  done
  if read_files 3 auto "$WORK/dm" --daily-mean "$WORK/t2m.nc" &&
     $CMP same --rtol 1.2e-7 "$WORK/dm.raw" "$WORK/t2m_day.raw" > "$WORK/log" 2>&1
  then pass "real ERA5: --daily-mean of the hourly file equals cdo daymean to float precision"
  else fail "real ERA5: --daily-mean of the hourly file equals cdo daymean to float precision"; fi
fi

# ---- bad input at 2 ranks: one error line, no hang
expect_error "a variable missing everywhere is refused" "v10: every value is missing in the selection; drop it with --vars" \
  $(mpi 2) "$READ" "$WORK/all_missing.nc"
check "the same file with --vars u10 reads" $(mpi 2) "$READ" --vars u10 "$WORK/all_missing.nc"
expect_error "3 ranks for 2 time steps" "3 ranks but only 2 time steps; use at most 2 ranks or a longer --time-range" \
  $(mpi 3) "$READ" "$WORK/packed_b.nc"
expect_error "--process-grid 3x1x1 on 2 ranks" "option --process-grid: 3x1x1 uses 3 ranks but the job has 2" \
  $(mpi 2) "$READ" --process-grid 3x1x1 "$WORK/packed_a.nc"
expect_error "--process-grid 1x1x5 over 4 longitudes" "option --process-grid: 1x1x5 splits longitude into 5 parts but there are only 4 longitudes" \
  $(mpi 2) "$READ" --process-grid 1x1x5 "$WORK/packed_a.nc"
tap_done
