#!/bin/sh
# catalog.sh - the ERA5 catalog seen through dsc info: small CDL files of
# every flavour users meet (legacy packed CDF-2, expver, new CDS after
# nccopy to CDF-5, noleap model output), the options that select from them,
# and one clear error line at 2 ranks for every kind of bad input.
. ./tests/testenv.sh
[ -n "$NCGEN" ] || skip_all "ncgen not found"

D="$top_srcdir/tests/data"
for f in era5_legacy era5_legacy_next era5_expver era5_other_grid; do
  "$NCGEN" -k 64-bit-offset -o "$WORK/$f.nc" "$D/$f.cdl" || { echo "Bail out! ncgen $f.cdl"; exit 1; }
done
"$NCGEN" -k cdf5 -o "$WORK/era5_cds_new.nc" "$D/era5_cds_new.cdl" || { echo "Bail out! ncgen era5_cds_new.cdl"; exit 1; }
"$NCGEN" -k classic -o "$WORK/era5_noleap.nc" "$D/era5_noleap.cdl" || { echo "Bail out! ncgen era5_noleap.cdl"; exit 1; }
L="$WORK/era5_legacy.nc"
N="$WORK/era5_legacy_next.nc"

. "$top_srcdir/tests/info_helpers.sh"

LEGACY="files=era5_legacy.nc vars=t2m,sst grid.nlat=3 grid.nlon=4 grid.lat_first=60 grid.lat_last=59.5
grid.lon_first=-10 grid.lon_last=-9.25 time.count=4 time.first=2021-01-01T00:00:00 time.last=2021-01-01T18:00:00
time.step_hours=6 var.t2m.missing=2 var.sst.missing=8 var.t2m.units=K var.t2m.packed=true var.t2m.type=int16
var.t2m.scale_factor=0.00123456789 var.t2m.add_offset=280.5 var.sst.nc_name=sst
file.0.time_is_record=true file.0.expver=0"
for np in 1 2 3; do
  # shellcheck disable=SC2086
  check_info "legacy packed CDF-2 file at $np ranks" $np $(echo $LEGACY) "var.t2m.long_name=2 metre temperature" \
    "var.sst.long_name=Sea surface temperature" \
    "file.0.format=64-bit offset" -- "$L"
done
check_info "two files given out of order are concatenated in time order" 2 files=era5_legacy.nc,era5_legacy_next.nc \
  time.count=8 time.first=2021-01-01T00:00:00 time.last=2021-01-02T18:00:00 time.step_hours=6 \
  var.t2m.missing=4 var.sst.missing=16 var.t2m.scale_factor=0.00123456789 -- "$N" "$L"
check_info "--vars with an alias, in the requested order" 2 vars=sst,t2m var.t2m.nc_name=t2m var.t2m.missing=2 \
  -- --vars sst,2t "$L"
check_info "--box selects the grid points inside" 1 grid.nlat=2 grid.nlon=2 grid.lat_first=60 grid.lat_last=59.75 \
  grid.lon_first=-9.75 grid.lon_last=-9.5 grid.lat_offset=0 grid.lon_offset=1 var.t2m.missing=1 var.sst.missing=4 \
  -- --box 59.6,60,-9.8,-9.4 "$L"
check_info "--time-range is inclusive" 2 time.count=2 time.first=2021-01-01T06:00:00 time.last=2021-01-01T12:00:00 \
  var.t2m.missing=1 -- --time-range 2021-01-01T06:00/2021-01-01T12:00 "$L"
check_info "--time-range with a date as END includes that whole day" 2 time.count=4 time.last=2021-01-01T18:00:00 \
  -- --time-range 2020-12-31/2021-01-01 "$N" "$L"
check_info "--time-range START/ leaves the end open" 2 time.count=2 time.first=2021-01-01T12:00:00 \
  time.last=2021-01-01T18:00:00 -- --time-range 2021-01-01T12:00/ "$L"
check_info "--time-range /END leaves the start open" 2 time.count=2 time.first=2021-01-01T00:00:00 \
  time.last=2021-01-01T06:00:00 -- --time-range /2021-01-01T06:00:00Z "$L"
for pg in 1x2x1 1x1x2 2x1x1; do
  check_info "--process-grid $pg gives the same missing counts" 2 var.t2m.missing=2 var.sst.missing=8 time.count=4 \
    -- --process-grid $pg "$L"
done
check_info "--daily-mean groups the steps of each UTC day" 2 time.count=2 time.first=2021-01-01T00:00:00 \
  time.last=2021-01-02T00:00:00 time.step_hours=24 time.steps=8 time.input_step_hours=6 time.daily_mean=true \
  var.t2m.missing=0 var.sst.missing=4 -- --daily-mean "$L" "$N"
check_info "the same file twice: one warning, duplicates dropped" 2 time.count=4 var.t2m.missing=2 \
  "warning=4 duplicated time steps .*kept the first" -- "$L" "$L"

for np in 1 2; do
  check_info "expver dimension (ERA5 + ERA5T) at $np ranks" $np vars=t2m file.0.expver=2 time.count=3 \
    time.first=2024-06-01T00:00:00 time.last=2024-06-03T00:00:00 time.step_hours=24 var.t2m.missing=1 \
    grid.nlat=2 grid.nlon=3 -- "$WORK/era5_expver.nc"
done
for np in 1 3; do
  check_info "new CDS layout (valid_time in seconds, NaN fill, CDF-5) at $np ranks" $np vars=t2m,sp \
    file.0.format=CDF-5 file.0.time_is_record=false time.count=3 time.first=2024-12-31T00:00:00 \
    time.last=2024-12-31T02:00:00 time.step_hours=1 var.t2m.missing=3 var.sp.missing=0 var.t2m.type=float32 \
    var.t2m.packed=false var.t2m.scale_factor=null var.sp.units=Pa grid.lat_first=51 grid.lon_first=359.5 \
    -- "$WORK/era5_cds_new.nc"
done
check_info "--vars with the ECMWF parameter name var165" 1 vars=u10 var.u10.nc_name=10u -- --vars var165 \
  "$WORK/era5_noleap.nc"
check_info "noleap calendar in days, lat/lon names, 10u, default fill" 2 vars=u10 var.u10.nc_name=10u \
  file.0.format=classic time.count=4 time.first=2003-04-16T00:00:00 time.last=2003-04-19T00:00:00 \
  time.step_hours=24 var.u10.missing=1 "var.u10.units=m s**-1" grid.lat_first=30 grid.lat_last=31 \
  -- "$WORK/era5_noleap.nc"

check_twin "netCDF4-python agrees on the legacy files" "$L" "$N"
check_twin "netCDF4-python agrees on the new CDS layout" "$WORK/era5_cds_new.nc"
check_twin "netCDF4-python agrees on the noleap file" "$WORK/era5_noleap.nc"

# JSON strings are escaped: a path with a quote and a backslash
odd="$WORK/we\"ird\\name.nc"
cp "$L" "$odd"
check_info "file names are escaped in JSON" 1 "paths=$odd" -- "$odd"
check "text output names the packing" sh -c "'$DSC' info '$L' | grep -q 'packed int16'"
check "text output shows float32 for unpacked data" sh -c "'$DSC' info '$WORK/era5_cds_new.nc' | grep -q 'float32'"

# ---- bad input: one error line at 2 ranks, non-zero exit, no hang ----
# (expect_error runs its command under timeout, which cannot run the shell
# function run_np: the launcher is spelled out)
MPI2=$(echo "$TESTMPIRUN" | sed "s/NP/2/")
E2() { _d=$1; _re=$2; shift 2; expect_error "$_d" "$_re" $MPI2 "$DSC" info "$@"; }
E2 "no files" "no input files; give one or more" 
E2 "missing file" "nope\\.nc: no such file" "$L" "$WORK/nope.nc"
mkdir "$WORK/dir.nc"
E2 "a directory instead of a file" "dir\\.nc: is a directory" "$WORK/dir.nc"
mkfifo "$WORK/fifo.nc"
E2 "a fifo instead of a file" "fifo\\.nc: is not a regular file" "$WORK/fifo.nc"
if [ "$(id -u)" != 0 ]; then
  cp "$L" "$WORK/noread.nc"; chmod 000 "$WORK/noread.nc"
  E2 "unreadable file" "noread\\.nc: not readable" "$WORK/noread.nc"
fi
size=$(wc -c < "$L")
head -c $((size - 20)) "$L" > "$WORK/cut_data.nc"
E2 "file cut short in its data" "cut_data\\.nc: truncated file" "$WORK/cut_data.nc"
head -c 200 "$L" > "$WORK/cut_header.nc"
E2 "file cut short in its header" "cut_header\\.nc: truncated or damaged netCDF header" "$WORK/cut_header.nc"
head -c 2 "$L" > "$WORK/cut_magic.nc"
E2 "file of two bytes" "cut_magic\\.nc: truncated netCDF file" "$WORK/cut_magic.nc"
: > "$WORK/empty.nc"
E2 "empty file" "empty\\.nc: empty file" "$WORK/empty.nc"
echo "time,t2m" > "$WORK/text.nc"
E2 "text file" "text\\.nc: not a netCDF file" "$WORK/text.nc"
printf 'PK\003\004rest of a zip archive' > "$WORK/download.nc"
E2 "zip archive from the CDS" "download\\.nc: is a zip archive.*unzip" "$WORK/download.nc"
# packing attributes that cannot unpack the data: a zero scale_factor makes
# every value add_offset, a non-finite one or add_offset every value NaN/Inf
for bad in "scale_factor = 0.01/scale_factor = 0." "scale_factor = 0.01/scale_factor = NaN" \
           "scale_factor = 0.01/scale_factor = -Infinity" "add_offset = 0./add_offset = Infinity"; do
  sed -e "/u10:/s/$bad/" "$D/reader_all_missing.cdl" > "$WORK/badpack.cdl"
  "$NCGEN" -k 64-bit-offset -o "$WORK/badpack.nc" "$WORK/badpack.cdl" || fail "ncgen badpack.cdl ($bad)"
  att=${bad%% =*}
  E2 "$att ${bad##*= } is refused" "badpack\\.nc: variable u10 has $att .*, which cannot unpack its data; fix the attribute" \
    "$WORK/badpack.nc"
done
"$NCGEN" -k nc4 -o "$WORK/hdf5.nc" "$D/era5_cds_new.cdl"
if [ "$HAVE_NETCDF4" = yes ]; then
  # read through netcdf-c (tests/netcdf4.sh compares the values)
  check "netCDF-4/HDF5 file is read" sh -c "$MPI2 '$DSC' info '$WORK/hdf5.nc' > '$WORK/hdf5.info'"
  check "... and shown as netCDF-4" grep -q "hdf5\\.nc (netCDF-4, contiguous, 3 time steps)" "$WORK/hdf5.info"
  E2 "netCDF-4/HDF5 as second file: another grid" "hdf5\\.nc: grid 2x2 differs" "$L" "$WORK/hdf5.nc"
else
  # a build without netcdf-c's parallel API gives the conversion command
  E2 "netCDF-4/HDF5 file names nccopy" "hdf5\\.nc: is netCDF-4/HDF5.*nccopy -k cdf5 -V number,valid_time,latitude,longitude" \
    "$WORK/hdf5.nc"
  E2 "netCDF-4/HDF5 as second file" "hdf5\\.nc: is netCDF-4/HDF5" "$L" "$WORK/hdf5.nc"
fi
E2 "missing variable lists the file's variables" "era5_legacy\\.nc: no variable 'foo'.*the file has t2m, sst" \
  --vars foo "$L"
E2 "grids differ between files" "era5_other_grid\\.nc: grid 2x4 differs from .*era5_legacy\\.nc 3x4" "$L" \
  "$WORK/era5_other_grid.nc"
E2 "empty time range" "--time-range: no time steps between 2030-01-01T00:00:00 and 2030-12-31T23:59:59" \
  --time-range 2030-01-01/2030-12-31 "$L"
E2 "time range START after END" "--time-range: START .* is after END" --time-range 2021-02-01/2021-01-01 "$L"
E2 "time range syntax" "--time-range: '2021-01-01' is not START/END" --time-range 2021-01-01 "$L"
E2 "time range bad date" "--time-range: START '2021-13-01' is not a date" --time-range 2021-13-01/2021-12-01 "$L"
E2 "bad --box syntax" "--box: '1,2,3' is not S,N,W,E" --box 1,2,3 "$L"
E2 "--box with S > N" "--box: '60,50,0,1': latitudes" --box 60,50,0,1 "$L"
E2 "--box without grid points" "--box 0,10,0,10: no grid point inside" --box 0,10,0,10 "$L"
E2 "bad --process-grid syntax" "--process-grid: '2x2' is not TxYxX" --process-grid 2x2 "$L"
E2 "bad --process-grid value" "--process-grid: '2xax1' is not TxYxX" --process-grid 2xax1 "$L"
E2 "--vars naming one variable twice" "--vars: 't2m' and '2t' are the same variable" --vars t2m,2t "$L"
E2 "--vars with an empty name" "--vars: 't2m,,sst' has an empty name" --vars t2m,,sst "$L"
cat > "$WORK/notime.cdl" <<'CDL'
netcdf notime { dimensions: latitude = 2 ; longitude = 2 ;
variables: float latitude(latitude) ; float longitude(longitude) ; float t2m(latitude, longitude) ;
data: latitude = 1, 2 ; longitude = 1, 2 ; t2m = 1, 2, 3, 4 ; }
CDL
"$NCGEN" -k classic -o "$WORK/notime.nc" "$WORK/notime.cdl"
E2 "a file without a time dimension" "notime\\.nc: no time dimension" "$L" "$WORK/notime.nc"
sed -e 's/hours since 1900-01-01 00:00:00.0/fortnights since 1900-01-01/' "$D/era5_legacy.cdl" > "$WORK/badunits.cdl"
"$NCGEN" -k 64-bit-offset -o "$WORK/badunits.nc" "$WORK/badunits.cdl"
E2 "time units that are not understood" "badunits\\.nc: time units 'fortnights since 1900-01-01'" "$WORK/badunits.nc"
# coordinates: latitudes beyond the poles (90.25, -91), NaN in either
# coordinate; a longitude beyond 360 is a longitude all the same
for bad in "latitude = 60,/latitude = 90.25," "latitude = 60, 59.75, 59.5/latitude = 60, 59.75, -91" \
           "latitude = 60,/latitude = NaN," "longitude = -10,/longitude = NaN,"; do
  sed -e "s/$bad/" "$D/era5_legacy.cdl" > "$WORK/badcoord.cdl"
  "$NCGEN" -k 64-bit-offset -o "$WORK/badcoord.nc" "$WORK/badcoord.cdl" || fail "ncgen badcoord.cdl ($bad)"
  case $bad in
    *90.25*) E2 "a latitude of 90.25 is refused" "badcoord\.nc: latitude 0 is 90\.25, outside \[-90, 90\]" "$WORK/badcoord.nc" ;;
    *-91*) E2 "a latitude of -91 is refused" "badcoord\.nc: latitude 2 is -91, outside \[-90, 90\]" "$WORK/badcoord.nc" ;;
    latitude*) E2 "a NaN latitude is refused" "badcoord\.nc: latitude 0 is not a number" "$WORK/badcoord.nc" ;;
    *) E2 "a NaN longitude is refused" "badcoord\.nc: longitude 0 is not a number" "$WORK/badcoord.nc" ;;
  esac
done
sed -e "s/latitude = 60,/latitude = 90,/" -e "s/longitude = -10,/longitude = 400,/" "$D/era5_legacy.cdl" > "$WORK/edge.cdl"
"$NCGEN" -k 64-bit-offset -o "$WORK/edge.nc" "$WORK/edge.cdl"
check "a latitude of exactly 90 and a longitude of 400 are read" sh -c "$MPI2 '$DSC' info '$WORK/edge.nc' > /dev/null"
# from the reader, through the catalog's selection
E2 "a variable missing everywhere in the selection" "sst: every value is missing" --box 60,60,-10,-9.75 "$L"
E2 "more ranks than time steps" "2 ranks but only 1 time steps" --time-range 2021-01-01T00:00/2021-01-01T01:00 "$L"
tap_done
