#!/bin/sh
# synth.sh - dsc synth: one CDS-like netCDF file per year with the paper's
# seven variables, byte-identical at 1, 2 and 3 ranks and across --years
# subsets, both encodings, values in the paper's ranges, planted regimes in
# truth.csv (seasonal, not trivially separable, red noise), clear errors;
# a folder holds one data set (another is refused unless --force).
. ./tests/testenv.sh
CHECK="$PYTHON $top_srcdir/tests/synth_check.py"
# (check and expect_error run their command under timeout, which cannot run
# the shell function run_np: the launcher is spelled out)
MPI1=$(echo "$TESTMPIRUN" | sed "s/NP/1/")
MPI2=$(echo "$TESTMPIRUN" | sed "s/NP/2/")
MPI3=$(echo "$TESTMPIRUN" | sed "s/NP/3/")
S="$WORK/np1"

check "synth 2001-2003 at 1 rank" $MPI1 "$DSC" synth -q -o "$S" --years 2001-2003
for y in 2001 2002 2003; do
  check "era5_$y.nc written" test -s "$S/era5_$y.nc"
done
check "nothing else in the directory (no temporary file left; manifest.txt last)" \
  sh -c "[ \"\$(ls -A '$S' | tr '\n' ' ')\" = 'era5_2001.nc era5_2002.nc era5_2003.nc manifest.txt truth.csv ' ]"
check "truth.csv: header and one line per day" \
  sh -c "head -1 '$S/truth.csv' | grep -qx 'time,regime' && [ \$(wc -l < '$S/truth.csv') -eq 1096 ] && sed -n 2p '$S/truth.csv' | grep -Eq '^2001-01-01T00:00:00,[0-6]\$'"

for np in 2 3; do
  check "synth 2001-2003 at $np ranks" $(echo "$TESTMPIRUN" | sed "s/NP/$np/") "$DSC" synth -q -o "$WORK/np$np" --years 2001-2003
  for f in era5_2001.nc era5_2002.nc era5_2003.nc truth.csv; do
    check "$f at $np ranks is byte-identical to 1 rank" cmp "$S/$f" "$WORK/np$np/$f"
  done
done
check "a year written alone equals the same year of a range" \
  sh -c "$MPI2 '$DSC' synth -q -o '$WORK/one' --years 2002 && cmp '$S/era5_2002.nc' '$WORK/one/era5_2002.nc'"
# (the last day of a request looks ahead: the ramp of an episode that runs
# on into 2002 must be the same whether 2002 is written or not)
check "the first year written alone at 3 ranks equals the same year of a range" \
  sh -c "$MPI3 '$DSC' synth -q -o '$WORK/head' --years 2001 && cmp '$S/era5_2001.nc' '$WORK/head/era5_2001.nc'"
check "another seed gives other data" \
  sh -c "$MPI2 '$DSC' synth -q -o '$WORK/seed' --years 2002 --seed 7 && ! cmp -s '$S/era5_2002.nc' '$WORK/seed/era5_2002.nc'"

check "values in range, missing SST cells, time axis, planted regimes (legacy)" $CHECK values "$S" 2001 2003 7
check "synth cdf5 at 3 ranks" $MPI3 "$DSC" synth -q -o "$WORK/cdf5" --years 2001-2003 --encoding cdf5
check "cdf5 values in range, planted regimes" $CHECK values "$WORK/cdf5" 2001 2003 7
check "legacy and cdf5 agree within the packing precision" $CHECK agree "$S" "$WORK/cdf5" 2002
check "truth.csv does not depend on the encoding" cmp "$S/truth.csv" "$WORK/cdf5/truth.csv"

NCDUMP=$(command -v ncdump)
if [ -n "$NCDUMP" ]; then
  H="$WORK/header"
  "$NCDUMP" -h "$S/era5_2001.nc" > "$H"
  check "time is the unlimited dimension with 365 days" grep -q 'time = UNLIMITED ; // (365 currently)' "$H"
  check "latitude 41, longitude 41" sh -c "grep -q 'latitude = 41 ;' '$H' && grep -q 'longitude = 41 ;' '$H'"
  check "time units and calendar" sh -c "grep -q 'time:units = \"hours since 1900-01-01 00:00:00.0\"' '$H' && grep -q 'time:calendar = \"gregorian\"' '$H' && grep -q 'int time(time)' '$H'"
  check "coordinates float with units" sh -c "grep -q 'float latitude(latitude)' '$H' && grep -q 'latitude:units = \"degrees_north\"' '$H' && grep -q 'longitude:units = \"degrees_east\"' '$H'"
  for v in sst sp sshf slhf t2m u10 v10; do
    check "legacy $v: short, scale_factor, add_offset, _FillValue and missing_value -32767s" \
      sh -c "grep -q 'short $v(time, latitude, longitude)' '$H' && grep -q '$v:scale_factor = ' '$H' && grep -q '$v:add_offset = ' '$H' && grep -q '$v:_FillValue = -32767s' '$H' && grep -q '$v:missing_value = -32767s' '$H'"
  done
  check "ERA5 units and long names" sh -c "grep -q 'sst:units = \"K\"' '$H' && grep -q 'sst:long_name = \"Sea surface temperature\"' '$H' && grep -q 'sp:units = \"Pa\"' '$H' && grep -q 'sshf:units = \"J m\*\*-2\"' '$H' && grep -q 'slhf:long_name = \"Surface latent heat flux\"' '$H' && grep -q 't2m:long_name = \"2 metre temperature\"' '$H' && grep -q 'u10:units = \"m s\*\*-1\"' '$H' && grep -q 'v10:long_name = \"10 metre V wind component\"' '$H'"
  check "global Conventions and history" sh -c "grep -q ':Conventions = \"CF-1.6\"' '$H' && grep -q ':history = ' '$H'"
  check "scale_factor differs between files" \
    sh -c "[ \"\$('$NCDUMP' -h '$S/era5_2001.nc' | grep t2m:scale_factor)\" != \"\$('$NCDUMP' -h '$S/era5_2002.nc' | grep t2m:scale_factor)\" ]"
  check "legacy is 64-bit offset" sh -c "'$NCDUMP' -k '$S/era5_2001.nc' | grep -qx '64-bit offset'"
  check "cdf5 is CDF-5" sh -c "'$NCDUMP' -k '$WORK/cdf5/era5_2001.nc' | grep -qx 'cdf5'"
  check "cdf5 data are float with _FillValue -32767" \
    sh -c "'$NCDUMP' -h '$WORK/cdf5/era5_2001.nc' | grep -q 'float sst(time, latitude, longitude)' && '$NCDUMP' -h '$WORK/cdf5/era5_2001.nc' | grep -q 'sst:_FillValue = -32767.f'"
  check "latitude descends from 45N, longitude ascends from 30W" \
    sh -c "'$NCDUMP' -v latitude,longitude '$S/era5_2001.nc' | tr -d '\n ' | grep -q 'longitude=-30,-29.75,-29.5,.*,-20;latitude=45,44.75,44.5,.*,35;'"
  check "--vars sst,u10 writes only those" \
    sh -c "$MPI2 '$DSC' synth -q -o '$WORK/sub' --years 2001 --grid 5x7 --vars u10,sst && '$NCDUMP' -h '$WORK/sub/era5_2001.nc' > '$WORK/subh' && grep -q 'short sst(' '$WORK/subh' && grep -q 'short u10(' '$WORK/subh' && ! grep -q 'short t2m(' '$WORK/subh' && grep -q 'latitude = 5 ;' '$WORK/subh' && grep -q 'longitude = 7 ;' '$WORK/subh'"
else
  skip "netCDF headers (ncdump -h)" "ncdump not found"
fi

# Sub-daily steps: the daily mean of the hourly file equals the daily file.
check "synth --hourly at 3 ranks" $MPI3 "$DSC" synth -q -o "$WORK/hourly" --years 2004 --grid 9x11 --encoding cdf5 --hourly
check "synth daily at 2 ranks" $MPI2 "$DSC" synth -q -o "$WORK/daily" --years 2004 --grid 9x11 --encoding cdf5
check "hourly: 24 steps a day whose mean is the daily value" $CHECK hourly "$WORK/daily" "$WORK/hourly" 2004
check "hourly at 3 ranks equals 1 rank" \
  sh -c "$MPI1 '$DSC' synth -q -o '$WORK/hourly1' --years 2004 --grid 9x11 --encoding cdf5 --steps-per-day 24 && cmp '$WORK/hourly/era5_2004.nc' '$WORK/hourly1/era5_2004.nc'"

# The library on sub-communicators of 3 ranks (tests/test_synth.c).
check "synth_write on sub-communicators at 3 ranks" $MPI3 "$top_builddir/tests/test_synth"

# A decade on a small grid with other options.
check "synth 1979-1988 12x16 at 3 ranks" $MPI3 "$DSC" synth -q -o "$WORK/decade" --years 1979-1988 --grid 12x16 --regimes 4 --seed 5
check "ten files" sh -c "[ \$(ls '$WORK/decade'/era5_*.nc | wc -l) -eq 10 ] && test -s '$WORK/decade/era5_1988.nc'"
check "decade: values, 3653 days in truth.csv, 4 regimes" $CHECK values "$WORK/decade" 1979 1988 4

# A folder holds one data set: another is refused unless --force, which
# removes only the files the old manifest lists.
X="$WORK/set"
T="--grid 5x5 --vars t2m -q"
check "a 2001-2003 set at 2 ranks" $MPI2 "$DSC" synth $T -o "$X" --years 2001-2003
cp -r "$X" "$WORK/set0"
check "the same synth again into its folder works and writes the same files" \
  sh -c "$MPI3 '$DSC' synth $T -o '$X' --years 2001-2003 && diff -r '$X' '$WORK/set0'"
expect_error "another --years into a folder holding a set" "set holds another data set: its manifest.txt has 'years = 2001-2003' where this run has 'years = 2002-2002'.*--force" \
  $MPI2 "$DSC" synth $T -o "$X" --years 2002
check "... the old set is untouched (truth.csv and manifest.txt included)" diff -r "$X" "$WORK/set0"
printf 'mine\n' > "$X/notes.txt"
cp "$X/era5_2001.nc" "$X/era5_1999.nc"
printf 'file = notes.txt 5\nfile = ../outside.csv 1\n' >> "$X/manifest.txt"
printf 'keep\n' > "$WORK/outside.csv"
check "--force replaces it with 2002 of seed 3 at 3 ranks" $MPI3 "$DSC" synth $T -o "$X" --years 2002 --seed 3 --force
check "... its yearly files and truth.csv are gone, files it did not list or name as ours are kept" \
  sh -c "[ \"\$(ls -A '$X' | tr '\n' ' ')\" = 'era5_1999.nc era5_2002.nc manifest.txt notes.txt truth.csv ' ] && test -s '$WORK/outside.csv'"
check "... the folder holds the new set, as written into an empty folder" \
  sh -c "$MPI1 '$DSC' synth $T -o '$WORK/set3' --years 2002 --seed 3 && for f in era5_2002.nc truth.csv manifest.txt; do cmp '$X/'\$f '$WORK/set3/'\$f || exit 1; done"
mkdir "$WORK/era5"
printf 'not ours\n' > "$WORK/era5/era5_2001.nc"
expect_error "a folder with an era5 file no manifest lists" "era5/era5_2001.nc exists but is not part of a dsc synth data set.*--force" \
  $MPI2 "$DSC" synth $T -o "$WORK/era5" --years 2001
check "... that file is untouched" sh -c "[ \"\$(cat '$WORK/era5/era5_2001.nc')\" = 'not ours' ]"
# A run that fails after it started (a year's name taken by a folder) leaves
# manifest.partial: its set, with the old files it removed, is still known.
mkdir -p "$X/era5_2004.nc/x"
expect_error "--force run that fails on its second year" "era5_2004.nc" $MPI2 "$DSC" synth $T -o "$X" --years 2003-2004 --force
check "... manifest.partial names the failed run's options; no manifest.txt, no truth.csv" \
  sh -c "grep -qx 'years = 2003-2004' '$X/manifest.partial' && test ! -e '$X/manifest.txt' && test ! -e '$X/truth.csv'"
expect_error "... a third set into that folder is refused (manifest.partial)" "its manifest.partial has 'years = 2003-2004'" \
  $MPI2 "$DSC" synth $T -o "$X" --years 2002 --seed 3
rmdir "$X/era5_2004.nc/x" "$X/era5_2004.nc"
check "... the failed run again completes the set; manifest.partial is gone" \
  sh -c "$MPI2 '$DSC' synth $T -o '$X' --years 2003-2004 && [ \"\$(ls -A '$X' | tr '\n' ' ')\" = 'era5_1999.nc era5_2003.nc era5_2004.nc manifest.txt notes.txt truth.csv ' ]"

# Failure leaves no partial file: era5_2001.nc is taken by a directory.
mkdir -p "$WORK/busy/era5_2001.nc/x"
expect_error "output name taken by a directory" "era5_2001.nc" $MPI2 "$DSC" synth -q -o "$WORK/busy" --years 2001 --grid 4x4 --force
check "no temporary file left after the failure (only the record of the run)" sh -c "[ \"\$(ls -A '$WORK/busy' | tr '\n' ' ')\" = 'era5_2001.nc manifest.partial ' ]"

: > "$WORK/afile"
expect_error "--output is a file" "option -o .*afile is not a folder" $MPI2 "$DSC" synth -o "$WORK/afile"
expect_error "--years reversed" "--years.*2020-1979" $MPI2 "$DSC" synth -o "$WORK/bad" --years 2020-1979
expect_error "--years not a year" "--years" $MPI2 "$DSC" synth -o "$WORK/bad" --years soon
expect_error "--grid 0x5" "--grid.*0x5" $MPI2 "$DSC" synth -o "$WORK/bad" --grid 0x5
expect_error "--grid 41" "--grid.*41" $MPI2 "$DSC" synth -o "$WORK/bad" --grid 41
expect_error "--vars unknown variable" "--vars.*unknown variable 'foo'" $MPI2 "$DSC" synth -o "$WORK/bad" --vars sst,foo
expect_error "--vars twice" "--vars.*twice" $MPI2 "$DSC" synth -o "$WORK/bad" --vars sst,sst
expect_error "--encoding foo" "--encoding.*foo" $MPI2 "$DSC" synth -o "$WORK/bad" --encoding foo
expect_error "--regimes 0" "--regimes" $MPI2 "$DSC" synth -o "$WORK/bad" --regimes 0
expect_error "--noise -1" "--noise" $MPI2 "$DSC" synth -o "$WORK/bad" --noise -1
expect_error "--seed abc" "--seed" $MPI2 "$DSC" synth -o "$WORK/bad" --seed abc
expect_error "--resolution 0" "--resolution" $MPI2 "$DSC" synth -o "$WORK/bad" --resolution 0
expect_error "--steps-per-day 5" "--steps-per-day.*5" $MPI2 "$DSC" synth -o "$WORK/bad" --steps-per-day 5
expect_error "--hourly with --steps-per-day 4" "--hourly" $MPI2 "$DSC" synth -o "$WORK/bad" --hourly --steps-per-day 4
expect_error "grid beyond the pole" "--grid" $MPI2 "$DSC" synth -o "$WORK/bad" --grid 600x4
check "no output directory after bad options" test ! -e "$WORK/bad"
tap_done
