#!/bin/sh
# run_output.sh - the run outputs (labels.csv, labels.nc, latent.nc,
# centroids.nc, composites.nc) of tests/test_run_output for a small
# dsc synth data set: written at 1, 2 and 3 ranks, byte-identical across rank
# counts, opened by ncdump, values and attributes checked against numpy
# (tests/run_output_check.py), and a folder that cannot be written gives one
# clear error line and leaves no file behind.
. ./tests/testenv.sh

"$PYTHON" -c 'import netCDF4, numpy' 2>/dev/null || skip_all "numpy or netCDF4 is not available to $PYTHON"
RUN=./tests/test_run_output
K=5
D="$WORK/data"

# 12x10 cells at 1 degree: 6 cells of SST are land (missing in every step)
check "dsc synth writes 2 years on a 12x10 grid" "$DSC" synth -q -o "$D" --years 2001-2002 --grid 12x10 --resolution 1
for np in 1 2 3; do
  mkdir -p "$WORK/out$np"
  check "$np rank(s): the four run_output functions succeed" run_np $np $RUN "$WORK/out$np" $K "$D"/era5_2001.nc "$D"/era5_2002.nc
  check "$np rank(s): no temporary file left" sh -c "test -z \"\$(ls -A '$WORK/out$np' | grep -v -x -e labels.csv -e labels.nc -e latent.nc -e centroids.nc -e composites.nc)\""
done
for f in labels.csv labels.nc latent.nc centroids.nc composites.nc; do
  check "$f: identical bytes at 1, 2 and 3 ranks" sh -c "cmp '$WORK/out1/$f' '$WORK/out2/$f' && cmp '$WORK/out1/$f' '$WORK/out3/$f'"
done
if command -v ncdump > /dev/null 2>&1; then
  for f in labels.nc latent.nc centroids.nc composites.nc; do
    check "ncdump -h opens $f" sh -c "ncdump -h '$WORK/out1/$f' | grep -q 'Conventions = \"CF-1.8\"'"
  done
else
  skip "ncdump -h opens the files" "ncdump is not installed"
fi
check "values and attributes match numpy (composites, counts, labels.csv = labels.nc, time, CF attributes)" \
  "$PYTHON" "$top_srcdir/tests/run_output_check.py" "$WORK/out3" $K "$D"/era5_2001.nc "$D"/era5_2002.nc

# A folder that does not exist, and (unless root, who may write anyway) a
# read-only folder: one error line naming the final file, nothing left.
for what in labels latent centroids composites; do
  f=$what.nc
  expect_error "$what into a folder that does not exist: one error naming the file" "nosuch/$f: cannot create|nosuch/labels.csv: cannot create" \
    run_np 2 $RUN "$WORK/nosuch" $K --only $what "$D"/era5_2001.nc "$D"/era5_2002.nc
done
check "no folder created" test ! -e "$WORK/nosuch"
mkdir -p "$WORK/ro"
chmod a-w "$WORK/ro"
if [ -w "$WORK/ro" ]; then
  skip "a read-only folder" "running as a user who can write into read-only folders"
else
  for what in latent composites; do
    expect_error "$what into a read-only folder: one error naming the file" "ro/$what.nc: cannot create" \
      run_np 2 $RUN "$WORK/ro" $K --only $what "$D"/era5_2001.nc "$D"/era5_2002.nc
  done
  check "the read-only folder stays empty" test -z "$(ls -A "$WORK/ro")"
fi
chmod u+w "$WORK/ro"
tap_done
