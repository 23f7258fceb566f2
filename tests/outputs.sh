#!/bin/sh
# outputs.sh - outputs never destroy data: every command refuses an output
# path that is one of its inputs, a symbolic link, a device or a folder
# (a file where -o is a folder), before reading anything; two dsc synth runs
# into one folder never mix, and a killed run leaves no manifest.txt; on a
# full disk (a small tmpfs) synth, eval, kmeans and train fail with one line
# and leave no partial file under a final name, and train keeps its last
# checkpoint intact; under valgrind no written byte is uninitialised.
. ./tests/testenv.sh

"$PYTHON" -c 'import netCDF4, numpy' 2>/dev/null || skip_all "netCDF4 or numpy is not available to $PYTHON"
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
D="$WORK/data"
check "dsc synth writes one year on an 8x8 grid" "$DSC" synth -q -o "$D" --years 2001 --grid 8x8 --regimes 4
FILES="$D/era5_2001.nc"
cp -p "$D/era5_2001.nc" "$WORK/orig.nc"
cp -p "$D/truth.csv" "$WORK/orig.csv"
unchanged="cmp $D/era5_2001.nc $WORK/orig.nc && cmp $D/truth.csv $WORK/orig.csv"
E="$DSC eval --labels $D/truth.csv"

# ---- output paths -----------------------------------------------------------
expect_error "eval -o one of its input files" "option -o .*era5_2001.nc is also an input" $E -o "$FILES" $FILES
check "... the input file is unchanged" sh -c "$unchanged"
expect_error "eval -o the labels file" "option -o .*truth.csv is also an input" $E -o "$D/truth.csv" $FILES
check "... the labels file is unchanged" sh -c "$unchanged"
ln -s "$D/truth.csv" "$WORK/link.json"
expect_error "eval -o a symbolic link" "option -o .*link.json is a symbolic link" $E -o "$WORK/link.json" $FILES
check "... the link and its target are unchanged" sh -c "test -L '$WORK/link.json' && cmp -s '$D/truth.csv' '$WORK/orig.csv'"
# a device node of our own (as root; a FIFO otherwise), never /dev/null
# itself: a broken check must not replace the system's
if mknod "$WORK/null" c 1 3 2> /dev/null; then dev_test="test -c"; else mkfifo "$WORK/null"; dev_test="test -p"; fi
expect_error "eval -o a device node or FIFO" "option -o .*/null is not a regular file" $E -o "$WORK/null" $FILES
check "... it is still a device node or FIFO" $dev_test "$WORK/null"
expect_error "eval -o a folder" "option -o .*is a folder; give a file name" $E -o "$WORK" $FILES
expect_error "eval -o in a missing folder fails before the labels are read" "option -o .*nofolder/m.json: the folder .* does not exist" \
  "$DSC" eval --labels "$WORK/no-such-labels.csv" -o "$WORK/nofolder/m.json" $FILES
cp "$D/truth.csv" "$WORK/copy.csv"
expect_error "eval --save-latent onto the -o file" "-o and --save-latent both name" \
  $E --metric-space latent --model "$WORK/none.ckpt" -o "$WORK/m.json" --save-latent "$WORK/./m.json" $FILES
expect_error "eval --save-latent onto the labels (another name of it)" "option --save-latent .*is also an input" \
  "$DSC" eval --labels "$WORK/copy.csv" --metric-space latent --model "$WORK/none.ckpt" -o "$WORK/m.json" \
  --save-latent "$WORK/../$(basename "$WORK")/copy.csv" $FILES
check "... the labels are unchanged" cmp -s "$WORK/copy.csv" "$D/truth.csv"
check "eval -o a new file works (the probe file is removed)" sh -c \
  "$E -o '$WORK/ok.json' $FILES > /dev/null && test -s '$WORK/ok.json' && ! ls -A '$WORK' | grep -q dsc-write-test"
expect_error "kmeans -o an input file" "-o .*era5_2001.nc is not a folder" "$DSC" kmeans -k 3 -o "$FILES" $FILES
expect_error "kmeans -o the folder of the inputs" "-o .*holds the input file" "$DSC" kmeans -k 3 --force -o "$D" $FILES
expect_error "predict -o a symbolic link to a file" "-o .*is not a folder" "$DSC" predict -m "$WORK/none.ckpt" -o "$WORK/link.json" $FILES
mkdir "$WORK/kk"
cp "$D/truth.csv" "$WORK/kk/labels.csv"
expect_error "kmeans --truth a file it would write (--force)" "-o .*kk would overwrite the --truth file .*as labels.csv" \
  "$DSC" kmeans -k 3 --force --truth "$WORK/kk/labels.csv" -o "$WORK/kk" $FILES
check "... that file is unchanged" cmp "$WORK/kk/labels.csv" "$D/truth.csv"
expect_error "synth -o a regular file" "synth: option -o .*truth.csv is not a folder" "$DSC" synth -q -o "$D/truth.csv" --years 2001
check "... every input is unchanged" sh -c "$unchanged"

# ---- dsc synth: concurrent runs, killed runs ---------------------------------
S="--years 2001-2002 --grid 24x24 -q"
check "reference data sets of seeds 1 and 2" sh -c \
  "'$DSC' synth $S --seed 1 -o '$WORK/ref1' && '$DSC' synth $S --seed 2 -o '$WORK/ref2'"
check "manifest.txt lists every file with its size" sh -c \
  "grep -q '^seed = 1\$' '$WORK/ref1/manifest.txt' && grep -q '^file = era5_2002.nc $(wc -c < "$WORK/ref1/era5_2002.nc")\$' '$WORK/ref1/manifest.txt' \
   && grep -q '^file = truth.csv $(wc -c < "$WORK/ref1/truth.csv")\$' '$WORK/ref1/manifest.txt'"
mkdir "$WORK/locked"
if command -v flock > /dev/null; then
  expect_error "synth into a folder another run holds" "another dsc synth is writing into .*locked" \
    flock -n "$WORK/locked" "$DSC" synth $S -o "$WORK/locked"
  check "... and it wrote nothing there" sh -c "test -z \"\$(ls -A '$WORK/locked')\""
else
  skip "synth into a folder another run holds" "flock(1) is not installed"
fi
# Two runs with different seeds into one folder at the same time: whichever
# order the system gives them, the folder ends up as exactly one data set.
C="$WORK/concurrent"
mkdir "$C"
# (--force: the run that starts after the other ended replaces its set)
"$DSC" synth $S --seed 1 --force -o "$C" > "$WORK/c1.log" 2>&1 & p1=$!
$(launcher 2) "$DSC" synth $S --seed 2 --force -o "$C" > "$WORK/c2.log" 2>&1 & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
cat "$WORK/c1.log" "$WORK/c2.log" > "$WORK/log"
if [ $r1 -ne 0 ] && [ $r2 -ne 0 ]; then fail "two concurrent synth runs: both failed ($r1, $r2)"
elif { [ $r1 -ne 0 ] && ! grep -q 'another dsc synth is writing' "$WORK/c1.log"; } ||
     { [ $r2 -ne 0 ] && ! grep -q 'another dsc synth is writing' "$WORK/c2.log"; }; then
  fail "two concurrent synth runs: a failed run does not say another run holds the folder"
else pass "two concurrent synth runs: each finished or said another run holds the folder ($r1, $r2)"
fi
seed=$(sed -n 's/^seed = //p' "$C/manifest.txt" 2>/dev/null)
check "... the folder holds exactly the data set its manifest names (seed '$seed')" sh -c \
  "test -n '$seed' && for f in era5_2001.nc era5_2002.nc truth.csv manifest.txt; do cmp '$C/'\$f '$WORK/ref$seed/'\$f || exit 1; done \
   && test \$(ls -A '$C' | wc -l) -eq 4"
# A run killed while it rewrites a complete data set (seed 1 -> seed 2): no
# manifest, no truth.csv, so the folder no longer looks complete, and every
# file under a final name is one of the two data sets' complete files.
K="$WORK/killed"
cp -r "$WORK/ref1" "$K"
"$DSC" synth $S --seed 2 --force -o "$K" > "$WORK/log" 2>&1 & pk=$!
i=0
while [ $i -lt 600 ] && ! ls -A "$K" | grep -q '^\.era5_.*\.tmp\.'; do sleep 0.02; i=$((i + 1)); done # writing a year
kill -9 $pk 2> /dev/null
wait $pk; rk=$?
if [ $rk -eq 0 ]; then
  check "the run ended before the kill: its manifest is the seed-2 one" grep -q '^seed = 2$' "$K/manifest.txt"
else
  check "killed run (status $rk): no manifest.txt and no truth.csv are left" sh -c "test ! -e '$K/manifest.txt' && test ! -e '$K/truth.csv'"
fi
check "... every era5 file under its final name is complete (seed 1's or seed 2's)" sh -c \
  "for y in 2001 2002; do cmp -s '$K/'era5_\$y.nc '$WORK/ref1/'era5_\$y.nc || cmp -s '$K/'era5_\$y.nc '$WORK/ref2/'era5_\$y.nc || exit 1; done"

# ---- a full disk -------------------------------------------------------------
M="$WORK/mnt"
mkdir "$M"
trap 'umount "$M" 2> /dev/null; rm -rf "$WORK"' EXIT
mount_tmpfs() { umount "$M" 2> /dev/null; mount -t tmpfs -o "size=$1" tmpfs "$M" 2> /dev/null; }
if ! mount_tmpfs 32k; then
  skip "full disk tests" "cannot mount a tmpfs (needs root)"
else
  expect_error "synth on a full disk (32 KiB tmpfs, 3 ranks)" "era5_2001.nc: .*(bytes reached the disk|No space left).*free some space" \
    run_np 3 "$DSC" synth -q -o "$M/s" --years 2001 --grid 8x8 --vars t2m
  check "... no era5_2001.nc, no temporary file (only the record of the run)" sh -c "test ! -e '$M/s/era5_2001.nc' && [ \"\$(ls -A '$M/s')\" = manifest.partial ]"

  mount_tmpfs 64k && dd if=/dev/zero of="$M/fill" bs=4k count=16 2> /dev/null
  expect_error "eval -o on a full disk" "m.json: cannot write: No space left on device; free some space" \
    $E -o "$M/m.json" $FILES
  check "... no m.json, no temporary file" sh -c "test ! -e '$M/m.json' && test \$(ls -A '$M' | wc -l) -eq 1"

  mount_tmpfs 48k
  expect_error "kmeans on a full disk (48 KiB, 2 ranks)" "(bytes reached the disk|No space left).*free some space" \
    run_np 2 "$DSC" kmeans -q -k 4 -o "$M/k" $FILES
  check "... no temporary file; every file under a final name is complete" "$PYTHON" -c '
import netCDF4, sys, os
for f in os.listdir(sys.argv[1]):
    p = os.path.join(sys.argv[1], f)
    assert ".tmp." not in f and os.path.getsize(p) > 0, f
    if f.endswith(".nc"):
        with netCDF4.Dataset(p) as d:
            for v in d.variables.values(): v[:]
' "$M/k"

  # train: the first checkpoint (about 150 KiB) fits, the second does not.
  SMALL="-k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --batch 12 --pretrain-epochs 1 --update-interval 10 --tol 0 --kmeans-init 5 --max-iter 20"
  check "dsc synth writes a 16x16 year for train" "$DSC" synth -q -o "$WORK/t16" --years 2001 --grid 16x16 --regimes 4
  mount_tmpfs 256k
  expect_error "train on a disk that fills at the second checkpoint (2 ranks)" "checkpoint.ckpt: .*No space left on device" \
    run_np 2 "$DSC" train $SMALL --checkpoint-every 20 -q -o "$M/t" "$WORK/t16/era5_2001.nc"
  check "... only config.txt and checkpoint.ckpt are there" sh -c "test \"\$(ls -A '$M/t' | tr '\n' ' ')\" = 'checkpoint.ckpt config.txt '"
  cp -r "$M/t" "$WORK/resumed"
  check "... they are intact: --resume elsewhere ends with the labels and parameters of an uninterrupted run" sh -c \
    "$(launcher 2) '$DSC' train $SMALL --checkpoint-every 20 -q -o '$WORK/uninterrupted' '$WORK/t16/era5_2001.nc' \
     && $(launcher 2) '$DSC' train --resume '$WORK/resumed' -q && cmp '$WORK/uninterrupted/labels.csv' '$WORK/resumed/labels.csv' \
     && '$PYTHON' '$top_srcdir/tests/train_check.py' params '$WORK/uninterrupted/model.ckpt' '$WORK/resumed/model.ckpt' 0"
  umount "$M"
fi

# ---- no uninitialised byte reaches a file -------------------------------------
if ldd "$DSC" 2>/dev/null | grep -q libasan; then
  skip "valgrind checks" "dsc is built with AddressSanitizer (configure --enable-sanitizers), which valgrind cannot run"
elif command -v valgrind > /dev/null; then
  VG="valgrind -q --error-exitcode=99 --suppressions=$top_srcdir/tests/valgrind.supp"
  check "valgrind, 3 ranks: dsc synth writes no uninitialised byte" \
    run_np 3 $VG "$DSC" synth -q -o "$WORK/vg" --years 2001 --grid 7x5 --vars t2m,sst
else
  skip "valgrind checks" "valgrind is not installed"
fi
tap_done
