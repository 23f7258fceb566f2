#!/bin/sh
# netcdf4.sh - netCDF-4/HDF5 files as the new CDS delivers them, read in
# parallel through netcdf-c: one file, or the instant/accum pair of a request
# merged by variable (in any order given); NCAR RDA's monthly files of one
# variable each, and its half-month files of accumulated fluxes in the
# forecast layout joined with them by valid time; netCDF-4 classic model; one chunk
# per time step, per whole variable and netcdf-c's default chunking.  Every
# value equals a serial netCDF4-python read, at 1, 2 and 3 ranks, at more
# ranks than latitude rows and with ranks that read nothing of a file; the
# pre-processed matrix and the k-means labels equal those of the classic
# copy; pressure levels are chosen with --level or NAME@LEVEL; a ZIP saved
# as .nc and damaged HDF5 files give one error line at every rank count.
. ./tests/testenv.sh

. "$top_srcdir/tests/reader_helpers.sh"
NEWCDS="$PYTHON $top_srcdir/tests/newcds.py"
"$PYTHON" -c 'import netCDF4, numpy' 2> /dev/null || skip_all "$PYTHON has no netCDF4/numpy"
[ "$HAVE_NETCDF4" = yes ] || skip_all "dsc was built without netcdf-c's parallel API (tests/catalog.sh checks the conversion hint)"

E() { _d=$1; _re=$2; _np=$3; shift 3; expect_error "$_d" "$_re" run_np "$_np" "$DSC" info "$@"; }

# ---- the data: a classic (legacy CDS) set and its new-CDS copies
check "synth writes two years of three variables on a 9x13 grid" "$DSC" synth -q -o "$WORK/s" --years 2001-2002 --grid 9x13 \
  --regimes 3 --vars sst,sshf,t2m
C="$WORK/s/era5_2001.nc $WORK/s/era5_2002.nc"
read_files 1 auto "$WORK/classic" $C || fail "classic copy read at 1 rank"
check "new CDS copy, one file per year (netcdf-c's default chunks)" $NEWCDS -o "$WORK/one" $C
check "new CDS copy, the instant/accum pair per year" $NEWCDS --split -o "$WORK/pair" $C
check "new CDS copy, one chunk per time step" $NEWCDS --chunk step -o "$WORK/step" $C
check "new CDS copy, one chunk per variable, fields in reverse order" $NEWCDS --chunk whole --order REVERSED -o "$WORK/whole" $C
check "netCDF-4 classic model copy" $NEWCDS --format netcdf4_classic -o "$WORK/nc4c" $C

check "dsc info reads the new CDS pair" sh -c "'$DSC' info '$WORK'/pair/*.nc > '$WORK/pair.info'"
check "dsc info shows the format, compression and chunks" \
  grep -q "era5_2001_accum\\.nc (netCDF-4, zlib level 1, shuffle, chunks 365x9x13, 365 time steps)" "$WORK/pair.info"
check "dsc info lists the other file of each pair and its variables" \
  grep -q "^    + .*era5_2001_instant\\.nc (netCDF-4: sst, t2m)" "$WORK/pair.info"
"$DSC" info --json "$WORK"/step/*.nc > "$WORK/info.json" 2>&1
check "dsc info --json gives format, storage and parts" "$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))["file_details"][0]
assert d["format"] == "netCDF-4" and d["storage"] == "zlib level 1, shuffle, chunks 1x9x13" and d["parts"] == [], d
' "$WORK/info.json"

# ---- every value, at 1, 2 and 3 ranks and on several process grids
# (the fields of "whole" are stored in reverse order: --vars gives the classic order)
for set in one pair step whole nc4c; do
  files=$(ls "$WORK/$set"/*.nc | sort -r) # in reverse order: the catalog orders them
  vars=""
  [ $set = whole ] && vars="--vars sst,sshf,t2m"
  if read_files 1 auto "$WORK/$set.1" $vars $files; then
    same_as_python "$set: values at 1 rank equal netCDF4-python's" "$WORK/$set.1" $files
  else fail "$set: read at 1 rank"; fi
  check "$set: pre-processed matrix equals the classic copy's" cmp "$WORK/classic.x" "$WORK/$set.1.x"
  for spec in 2:2x1x1 3:1x3x1 3:3x1x1; do
    np=${spec%%:*}; grid=${spec#*:}
    [ $set = nc4c ] && [ $np = 2 ] && continue
    if read_files "$np" "$grid" "$WORK/$set.p" $vars $files && cmp "$WORK/$set.1.raw" "$WORK/$set.p.raw" > "$WORK/log" 2>&1 &&
       cmp "$WORK/$set.1.x" "$WORK/$set.p.x" >> "$WORK/log" 2>&1; then
      pass "$set: $np ranks ($grid) read the same values as 1 rank"
    else fail "$set: $np ranks ($grid) read the same values as 1 rank"; fi
  done
done

# more ranks than latitude rows; ranks with nothing to read in a file
check "synth writes a grid of two latitude rows" "$DSC" synth -q -o "$WORK/thin" --years 2001 --grid 2x7 --regimes 3 --vars t2m,sshf
check "new CDS pair of it" $NEWCDS --split --chunk step -o "$WORK/thinp" "$WORK/thin/era5_2001.nc"
if read_files 4 1x2x2 "$WORK/thin4" "$WORK"/thinp/*.nc; then
  same_as_python "4 ranks on 2 latitude rows (1x2x2): values equal netCDF4-python's" "$WORK/thin4" "$WORK"/thinp/*.nc
else fail "4 ranks on 2 latitude rows"; fi
if read_files 3 3x1x1 "$WORK/tr" --time-range 2001-12-31/2002-01-03 $(ls "$WORK"/pair/*.nc); then
  same_as_python "3 ranks, 1 step of the first year (ranks with nothing to read there): values equal netCDF4-python's" \
    "$WORK/tr" --time-range 2001-12-31/2002-01-03 "$WORK"/pair/*.nc
else fail "3 ranks on a time range of 4 steps"; fi
if read_files 3 auto "$WORK/dm" --daily-mean --box 42,44,-29,-26 "$WORK"/step/*.nc; then
  same_as_python "--daily-mean --box at 3 ranks: values equal netCDF4-python's" "$WORK/dm" --daily-mean --box 42,44,-29,-26 \
    "$WORK"/step/*.nc
else fail "--daily-mean --box at 3 ranks"; fi

# ---- NCAR RDA ds633.0: one variable per file per month (SSTK, VAR_2T), merged by variable
check "RDA copy: one file per variable and month" $NEWCDS --rda -o "$WORK/rda" $C
read_files 1 auto "$WORK/classic2" --vars sst,t2m $C || fail "classic copy read with --vars sst,t2m"
if read_files 3 auto "$WORK/rda.3" $(ls "$WORK"/rda/*.nc | sort -r) && [ "$(cat "$WORK/rda.3.vars")" = "sst,t2m" ]; then
  same_as_python "RDA: 48 monthly files of SSTK and VAR_2T read as sst, t2m at 3 ranks, equal to netCDF4-python's" \
    "$WORK/rda.3" "$WORK"/rda/*.nc
else fail "RDA: 48 monthly files read at 3 ranks"; fi
check "RDA: pre-processed matrix equals the classic copy's" cmp "$WORK/classic2.x" "$WORK/rda.3.x"

# ---- NCAR RDA ds633.0 accumulated fluxes: SSHF/SLHF in half-month files of the forecast layout
# (forecast_initial_time x forecast_hour 1..12), joined with the monthly analysis files by valid time
# rda_same DESC OUT hourly|daily FILES...: OUT.raw equals what netCDF4-python reads, each value at
# its valid time (initial time + forecast hour), on the valid times every variable has
rda_same() {
  _desc=$1 _out=$2 _mean=$3; shift 3
  if "$PYTHON" - "$_out.raw" "$_out.t" "$(cat "$_out.vars")" "$_mean" "$@" > "$WORK/log" 2>&1 <<'EOF'
import sys
import netCDF4
import numpy as np

raw, times, names, daily = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4] == "daily"
NAMES = {"SSTK": "sst", "SP": "sp", "SSHF": "sshf", "SLHF": "slhf", "VAR_2T": "t2m", "VAR_10U": "u10", "VAR_10V": "v10"}
series = {}  # name: {hours since 1900: field}
for path in sys.argv[5:]:
    ds = netCDF4.Dataset(path)
    for vname, var in ds.variables.items():
        if vname not in NAMES:
            continue
        a = np.ma.filled(np.ma.asarray(var[:]).astype(np.float64), np.nan)
        if "forecast_hour" in var.dimensions:  # valid time = initial time + forecast hour
            init = ds.variables["forecast_initial_time"][:].astype(np.float64)
            fh = ds.variables["forecast_hour"][:].astype(np.float64)
            valid = (init[:, None] + fh[None, :]).ravel()
            a = a.reshape((-1,) + a.shape[2:])
        else:
            valid = ds.variables["time"][:].astype(np.float64)
        s = series.setdefault(NAMES[vname], {})
        for h, f in zip(valid, a):
            s.setdefault(int(round(h)), f)
    ds.close()
common = sorted(set.intersection(*(set(series[n]) for n in names)))
x = np.stack([np.stack([series[n][h] for n in names]) for h in common])  # (T, V, Y, X)
hours = np.array(common, dtype=np.float64)
if daily:  # the mean of the hourly values of each UTC day
    day = np.floor(hours / 24)
    days = np.unique(day)
    x = np.stack([x[day == d].mean(axis=0) for d in days])
    hours = days * 24


def read_bin(path, dtype):  # tests/test_read: int64 T, D, then (T, D) values
    t, d = np.fromfile(path, dtype=np.int64, count=2)
    return np.fromfile(path, dtype=dtype, offset=16).reshape(t, d)


got, got_t = read_bin(raw, np.float32), read_bin(times, np.float64).ravel()
assert np.array_equal(got_t, hours), (got_t.size, hours.size, got_t[:2], hours[:2])
want = x.reshape(x.shape[0], -1)
assert np.array_equal(np.isnan(got), np.isnan(want))
ok = ~np.isnan(want)
err = np.max(np.abs(got[ok] - want[ok]) / np.maximum(1.0, np.abs(want[ok])))
assert err < 1e-6, err
print(f"{x.shape[0]} steps of {len(names)} variables equal, largest relative difference {err:.2g}")
EOF
  then pass "$_desc"; else fail "$_desc"; fi
}
check "synth writes a year of hourly sst, sshf, slhf, t2m on a 5x7 grid" "$DSC" synth -q -o "$WORK/h" --years 2001 --grid 5x7 \
  --regimes 3 --vars sst,sshf,slhf,t2m --hourly
check "RDA copy: monthly analysis files and half-month forecast files of SSHF, SLHF" $NEWCDS --rda -o "$WORK/rfc" "$WORK/h/era5_2001.nc"
check "the forecast files have the RDA header" "$PYTHON" -c '
import sys, netCDF4
d = netCDF4.Dataset(sys.argv[1])
v = d.variables["SSHF"]
assert v.dimensions == ("forecast_initial_time", "forecast_hour", "latitude", "longitude"), v.dimensions
assert list(d.variables["forecast_hour"][:]) == list(range(1, 13)) and v.units == "J m**-2"
t = d.variables["forecast_initial_time"]
assert t.units == "hours since 1900-01-01 00:00:00" and [int(x) % 24 for x in t[:2]] == [6, 18], t[:2]
' "$WORK/rfc/e5.oper.fc.sfc.accumu.128_146_sshf.ll025sc.2001020106_2001021606.nc"
R="$WORK/rfc/e5.oper"
# February: its analysis files and the three half-month files that cover it, in reverse order
FEB=$(ls "$R".an.sfc.*.2001020100_*.nc "$R".fc.sfc.accumu.*.2001011606_*.nc "$R".fc.sfc.accumu.*.2001020106_*.nc \
  "$R".fc.sfc.accumu.*.2001021606_*.nc | sort -r)
for np in 1 2 3; do
  if read_files $np auto "$WORK/rfc.$np" $FEB && [ "$(cat "$WORK/rfc.$np.vars")" = "sst,sshf,slhf,t2m" ]; then
    rda_same "RDA forecast layout: February at $np ranks equals netCDF4-python's values at their valid times" "$WORK/rfc.$np" hourly $FEB
  else fail "RDA forecast layout: February read at $np ranks"; fi
done
if read_files 3 1x3x1 "$WORK/rfc.lat" $FEB; then
  check "3 ranks on latitudes (1x3x1): the same values" cmp "$WORK/rfc.1.raw" "$WORK/rfc.lat.raw"
else fail "RDA forecast layout at 3 ranks on latitudes"; fi
if DSC_READ_CHUNK_BYTES=3000 read_files 2 auto "$WORK/rfc.small" $FEB; then
  check "requests of one initial time each (DSC_READ_CHUNK_BYTES): the same values" cmp "$WORK/rfc.1.raw" "$WORK/rfc.small.raw"
else fail "RDA forecast layout with small requests"; fi
if read_files 3 auto "$WORK/rfc.dm" --daily-mean $FEB; then
  rda_same "--daily-mean at 3 ranks: the mean of the 24 hourly values of each UTC day" "$WORK/rfc.dm" daily $FEB
else fail "RDA forecast layout --daily-mean at 3 ranks"; fi
if read_files 1 auto "$WORK/rfc.c" --time-range 2001-02-01/2001-02-28 "$WORK/h/era5_2001.nc"; then
  check "February of the classic copy: the same values as the RDA copy" cmp "$WORK/rfc.c.raw" "$WORK/rfc.1.raw"
else fail "February of the classic copy"; fi
# January: the half-month files run from 01-01 07:00 to 02-01 06:00, the analysis from 01-01 00:00 to 01-31 23:00
JAN=$(ls "$R".an.sfc.*.2001010100_*.nc "$R".fc.sfc.accumu.*.2001010106_*.nc "$R".fc.sfc.accumu.*.2001011606_*.nc)
if read_files 3 auto "$WORK/rfc.jan" $JAN; then
  rda_same "January: the valid times every variable covers (01-01 07:00 .. 01-31 23:00) at 3 ranks" "$WORK/rfc.jan" hourly $JAN
else fail "RDA forecast layout: January at 3 ranks"; fi
check "... the steps at the ends left out with one note" test "$(grep -c '^dsc: note: left out 14 time steps at the ends that not every variable covers (2001-01-01T00:00:00 \.\. 2001-01-01T06:00:00 and 2001-02-01T00:00:00 \.\. 2001-02-01T06:00:00)$' "$WORK/rfc.jan.log")" = 1
"$DSC" info $JAN > "$WORK/rfc.info" 2>&1
check "dsc info shows the forecast layout" \
  grep -q "e5\\.oper\\.fc\\.sfc\\.accumu\\.128_146_sshf\\.ll025sc\\.2001010106_2001011606\\.nc (netCDF-4, zlib level 4, shuffle, chunks 1x12x5x7, forecast layout: 30 initial times x 12 hours)" "$WORK/rfc.info"
check "... and the analysis files as before" grep -q "2001010100_2001013123\\.nc (netCDF-4, zlib level 4, shuffle, chunks 1x5x7, 744 time steps)" "$WORK/rfc.info"
"$DSC" info --json $JAN > "$WORK/rfc.json" 2> /dev/null
check "dsc info --json: forecast_layout of the half-month files only" "$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
f = {x["path"].rsplit(".", 2)[-2]: x for x in d["file_details"]}
assert f["2001010106_2001011606"]["forecast_layout"] == {"initial_times": 30, "hours": 12}, f
assert f["2001011606_2001020106"]["forecast_layout"] == {"initial_times": 32, "hours": 12}, f
assert "forecast_layout" not in f["2001010100_2001013123"], f
assert [v["nc_name"] for v in d["variables"]] == ["SSTK", "SSHF", "SLHF", "VAR_2T"] and d["time"]["count"] == 737, d
' "$WORK/rfc.json"
GAP=$(ls "$R".an.sfc.*.2001020100_*.nc "$R".fc.sfc.accumu.*.2001011606_*.nc "$R".fc.sfc.accumu.*.2001021606_*.nc)
for np in 1 3; do
  E "$np ranks: a half-month missing inside the period names the variable and the time" \
    "variable sshf has no value at 2001-02-01T07:00:00, inside the valid times its files share with those of sst" $np $GAP
done
if read_files 2 auto "$WORK/rfc.an" --vars sst,t2m $FEB && [ "$(cat "$WORK/rfc.an.vars")" = "sst,t2m" ]; then
  check "--vars sst,t2m leaves the forecast files unread: February whole, the values of the full read" "$PYTHON" -c '
import sys, numpy as np
def read(p): t, d = np.fromfile(p, np.int64, 2); return np.fromfile(p, np.float32, offset=16).reshape(t, d)
a, b = read(sys.argv[1]), read(sys.argv[2]).reshape(672, 4, -1)
assert a.shape[0] == 672 and np.array_equal(a.reshape(672, 2, -1), b[:, [0, 3]], equal_nan=True)
' "$WORK/rfc.an.raw" "$WORK/rfc.1.raw"
else fail "--vars sst,t2m on the February set"; fi
FC=$(ls "$R".fc.sfc.accumu.*.2001020106_*.nc "$R".fc.sfc.accumu.*.2001021606_*.nc)
if read_files 3 auto "$WORK/rfc.fc" $FC; then
  rda_same "the forecast files alone (SSHF, SLHF) at 3 ranks: 02-01 07:00 .. 03-01 06:00" "$WORK/rfc.fc" hourly $FC
else fail "the forecast files alone at 3 ranks"; fi
check "dsc kmeans on the classic copy's February" run_np 2 "$DSC" kmeans -q -k 3 --n-init 2 --time-range 2001-02-01/2001-02-28 \
  -o "$WORK/kmfc" "$WORK/h/era5_2001.nc"
check "dsc kmeans on the RDA copy's February (analysis and forecast layout)" run_np 3 "$DSC" kmeans -q -k 3 --n-init 2 \
  -o "$WORK/kmfr" $FEB
check "... the same labels" cmp "$WORK/kmfc/labels.csv" "$WORK/kmfr/labels.csv"

# ---- pressure levels: geopotential z on 3 levels (new CDS pressure_level, legacy CDS level)
check "new CDS file with z on pressure levels 1000, 850, 500" $NEWCDS --levels 1000,850,500 --chunk step -o "$WORK/plev" "$WORK/thin/era5_2001.nc"
check "legacy-style level dimension (int millibars), netCDF-4 classic model" $NEWCDS --levels 1000,850,500 --level-name level \
  --format netcdf4_classic -o "$WORK/lev" "$WORK/thin/era5_2001.nc"
for set in plev lev; do
  if read_files 3 auto "$WORK/$set.3" --vars z,t2m --level 500,1000 "$WORK/$set/era5_2001.nc" &&
     [ "$(cat "$WORK/$set.3.vars")" = "z@500,z@1000,t2m" ]; then
    same_as_python "$set: --vars z,t2m --level 500,1000 reads z@500, z@1000 and t2m at 3 ranks, equal to netCDF4-python's" \
      "$WORK/$set.3" "$WORK/$set/era5_2001.nc"
  else fail "$set: --vars z,t2m --level 500,1000 at 3 ranks"; fi
done
if read_files 2 auto "$WORK/zat" --vars sshf,z@850 "$WORK/plev/era5_2001.nc" && [ "$(cat "$WORK/zat.vars")" = "sshf,z@850" ]; then
  same_as_python "--vars sshf,z@850 at 2 ranks: values equal netCDF4-python's" "$WORK/zat" "$WORK/plev/era5_2001.nc"
else fail "--vars sshf,z@850 at 2 ranks"; fi
E "a variable on levels read without a level lists the levels" \
  "plev/era5_2001\\.nc: variable z is on 3 pressure levels \\(1000, 850, 500 hPa, dimension pressure_level\\); choose levels with --level" \
  2 "$WORK/plev/era5_2001.nc"
E "a level the file lacks lists the levels" "variable z has no level 300 hPa; its levels \\(level\\) are 1000, 850, 500" 2 \
  --vars z --level 300 "$WORK/lev/era5_2001.nc"
expect_error "--level that is no pressure" "option --level: 'high' is not a list of pressure levels" "$DSC" info --level high \
  "$WORK/plev/era5_2001.nc"
check "dsc compare --vars z,t2m --level 500,1000: its k-means runs read the levels compare reads" run_np 2 "$DSC" compare -q \
  -k 3 --seeds 1 --methods kmeans-anomalies --vars z,t2m --level 500,1000 -o "$WORK/cmplev" "$WORK/plev/era5_2001.nc"
check "... the labels of dsc kmeans on those levels, and compare.md records --level" sh -c \
  "$(echo "$TESTMPIRUN" | sed s/NP/2/) '$DSC' kmeans -q -k 3 --anomalies --vars z,t2m --level 500,1000 -o '$WORK/kmlev' \
     '$WORK/plev/era5_2001.nc' && cmp '$WORK/kmlev/labels.csv' '$WORK/cmplev/runs/kmeans-anomalies/seed1/labels.csv' \
   && grep -q -- '--level 500,1000' '$WORK/cmplev/compare.md'"

# ---- the method sees the same data: k-means labels of the classic and new CDS copies
check "dsc kmeans on the classic copy" run_np 2 "$DSC" kmeans -q -k 3 --anomalies --n-init 2 -o "$WORK/kmc" $C
check "dsc kmeans on the new CDS pair, given in reverse order" run_np 3 "$DSC" kmeans -q -k 3 --anomalies --n-init 2 \
  -o "$WORK/kmn" $(ls "$WORK"/pair/*.nc | sort -r)
check "... the same labels" cmp "$WORK/kmc/labels.csv" "$WORK/kmn/labels.csv"

# ---- dsc synth --encoding newcds: the pair per year, in parallel, equal to --encoding cdf5
check "synth --encoding newcds at 1 rank" "$DSC" synth -q -o "$WORK/sn1" --years 2001-2002 --grid 9x13 --regimes 3 --encoding newcds
check "synth --encoding newcds at 3 ranks" run_np 3 "$DSC" synth -q -o "$WORK/sn3" --years 2001-2002 --grid 9x13 --regimes 3 \
  --encoding newcds
check "synth --encoding cdf5 of the same set" "$DSC" synth -q -o "$WORK/sc5" --years 2001-2002 --grid 9x13 --regimes 3 --encoding cdf5
check "newcds writes an instant and an accum file a year" \
  sh -c "cd '$WORK/sn3' && ls era5_*.nc | paste -sd' ' - | grep -qx 'era5_2001_accum.nc era5_2001_instant.nc era5_2002_accum.nc era5_2002_instant.nc'"
check "newcds files have the new CDS header" "$PYTHON" -c '
import sys, netCDF4
d = netCDF4.Dataset(sys.argv[1])
v = d.variables
assert v["valid_time"].dtype.str == "<i8" and v["valid_time"].units == "seconds since 1970-01-01", v["valid_time"]
assert v["valid_time"].calendar == "proleptic_gregorian" and v["number"].ndim == 0 and v["expver"].dtype == str
assert v["expver"][0] == "0001" and set(v) == {"number", "valid_time", "latitude", "longitude", "expver", "sshf", "slhf"}
assert v["latitude"].dtype.str == "<f8" and str(v["latitude"]._FillValue) == "nan" and str(v["sshf"]._FillValue) == "nan"
f = v["sshf"].filters()
assert f["zlib"] and f["shuffle"] and f["complevel"] == 1, f
' "$WORK/sn3/era5_2001_accum.nc"
if read_files 2 auto "$WORK/sn" "$WORK"/sn3/*.nc && read_files 1 auto "$WORK/sn1" "$WORK"/sn1/*.nc &&
   read_files 1 auto "$WORK/sc" "$WORK"/sc5/*.nc; then
  check "newcds written at 3 ranks: values and pre-processed matrix equal those of --encoding cdf5" \
    sh -c "cmp '$WORK/sn.raw' '$WORK/sc.raw' && cmp '$WORK/sn.x' '$WORK/sc.x'"
  check "newcds written at 1 rank: the same values" cmp "$WORK/sn1.raw" "$WORK/sc.raw"
else fail "newcds and cdf5 read"; fi

# ---- what users get wrong, and damaged files
E "an instant file without its accum file names the missing variable" \
  "era5_2002_instant\\.nc: no file given holds variable sshf for its time steps" 2 \
  "$WORK"/pair/era5_2001_*.nc "$WORK/pair/era5_2002_instant.nc"
check "the CDS zip of a pair, saved as .nc" $NEWCDS --split --zip -o "$WORK/zip" "$WORK/s/era5_2001.nc"
E "a CDS zip saved as .nc says to unzip it, and how" "era5_2001\\.nc: is a zip archive.*unzip -d DIR" 2 "$WORK/zip/era5_2001.nc"
f="$WORK/step/era5_2001.nc"
size=$(wc -c < "$f")
head -c 4000 "$f" > "$WORK/cut_head.nc"
head -c $((size / 2)) "$f" > "$WORK/cut_half.nc"
head -c $((size - 100)) "$f" > "$WORK/cut_end.nc"
printf '\211HDF\r\n\032\nnothing else' > "$WORK/signature.nc"
"$PYTHON" - "$f" "$WORK/bad_data.nc" "$WORK/bad_meta.nc" <<'EOF'
import random, sys
b = bytearray(open(sys.argv[1], "rb").read())
d = bytearray(b)
r = random.Random(1)
for _ in range(400):  # the compressed chunks: the second half of the file
    d[r.randrange(len(d) // 2, len(d))] ^= 0xFF
open(sys.argv[2], "wb").write(d)
m = bytearray(b)
for i in range(100, 2000, 7):  # the superblock and object headers
    m[i] ^= 0x55
open(sys.argv[3], "wb").write(m)
EOF
for np in 1 3; do
  E "$np ranks: HDF5 file cut in its metadata" "cut_head\\.nc: truncated or damaged netCDF-4/HDF5 file" $np "$WORK/cut_head.nc"
  E "$np ranks: HDF5 file cut in half" "cut_half\\.nc: truncated or damaged netCDF-4/HDF5 file" $np "$WORK/cut_half.nc"
  E "$np ranks: HDF5 file missing its last 100 bytes" "cut_end\\.nc: truncated or damaged netCDF-4/HDF5 file" $np "$WORK/cut_end.nc"
  E "$np ranks: HDF5 signature and nothing else" "signature\\.nc: truncated or damaged netCDF-4/HDF5 file" $np "$WORK/signature.nc"
  E "$np ranks: damaged metadata" "bad_meta\\.nc: truncated or damaged netCDF-4/HDF5 file" $np "$WORK/bad_meta.nc"
  E "$np ranks: damaged compressed chunks" "bad_data\\.nc: reading variable .*: NetCDF: HDF error" $np "$WORK/bad_data.nc"
done

tap_done
