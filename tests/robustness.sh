#!/bin/sh
# robustness.sh - classes of bad input that no other test covers (the record
# of all classes is doc/robustness.md): wrong variable types, absurd
# dimension sizes, descending and duplicated times inside one file, CSV with
# CRLF line ends and a byte-order mark, spaces and non-ASCII letters in
# paths (through --resume), output folders that cannot be made, a damaged
# checkpoint, and bad configuration files.  Each bad input must end every
# rank with one error line naming the file or option, a non-zero status and
# no output.
. ./tests/testenv.sh

launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
MPI2=$(launcher 2)
L="$top_srcdir/tests/data/era5_legacy.cdl"
[ -n "$NCGEN" ] || skip_all "ncgen is not installed"

# ---- wrong types: a text (char) coordinate and a text field ----
sed -e 's/int time(time) ;/char time(time) ;/' -e 's/time = 1060680, 1060686, 1060692, 1060698 ;/time = "abcd" ;/' "$L" > "$WORK/chartime.cdl"
"$NCGEN" -k 64-bit-offset -o "$WORK/chartime.nc" "$WORK/chartime.cdl" || fail "ncgen chartime.cdl"
expect_error "a time coordinate of type char" "chartime\\.nc: coordinate variable 'time' is not a numeric 1-D variable" \
  $MPI2 "$DSC" info "$WORK/chartime.nc"
# t2m as text: its packing attributes and numbers replaced by 48 letters
awk '/short t2m\(/ { sub(/short/, "char") } /t2m:(scale_factor|add_offset|_FillValue|missing_value)/ { next }
     /^ t2m =/ { print " t2m = \"" sprintf("%48s", "") "\" ;"; skip = 1; next } skip && /;/ { skip = 0; next } !skip' \
  "$L" > "$WORK/chart2m.cdl"
"$NCGEN" -k 64-bit-offset -o "$WORK/chart2m.nc" "$WORK/chart2m.cdl" || fail "ncgen chart2m.cdl"
check "a text field is left out of the variables" sh -c \
  "$MPI2 '$DSC' info '$WORK/chart2m.nc' > '$WORK/o' && grep -q '^variables: 1' '$WORK/o' && grep -q '^  sst ' '$WORK/o' && ! grep -q '^  t2m ' '$WORK/o'"
expect_error "--vars naming a text field says it is text" "chart2m\\.nc: no variable 't2m' .*its 't2m' is of type char" \
  $MPI2 "$DSC" info --vars t2m "$WORK/chart2m.nc"
expect_error "--vars naming a coordinate says it has other dimensions" "no variable 'latitude' .*its 'latitude' has other dimensions" \
  $MPI2 "$DSC" info --vars latitude "$WORK/chart2m.nc"

# ---- absurd dimension sizes: a 50000 x 50000 grid; with 3 records the
# header asks for 30 GB the file does not have
cat > "$WORK/big.cdl" <<'CDL'
netcdf big { dimensions: latitude = 50000 ; longitude = 50000 ; time = UNLIMITED ;
variables: float latitude(latitude) ; latitude:units = "degrees_north" ; float longitude(longitude) ;
 longitude:units = "degrees_east" ; double time(time) ; time:units = "hours since 1900-01-01" ;
 float t2m(time, latitude, longitude) ; }
CDL
"$NCGEN" -k cdf5 -o "$WORK/big.nc" "$WORK/big.cdl" || fail "ncgen big.cdl"
expect_error "a 50000 x 50000 grid without records" "big\\.nc: holds no time steps" $MPI2 "$DSC" info "$WORK/big.nc"
cp "$WORK/big.nc" "$WORK/big3.nc"
printf '\000\000\000\000\000\000\000\003' | dd of="$WORK/big3.nc" bs=1 seek=4 conv=notrunc 2> /dev/null # numrecs = 3
expect_error "a 50000 x 50000 grid with 3 records of 10 GB each, not in the file" \
  "big3\\.nc: truncated file: [0-9]* bytes, but its header needs 30000400548" $MPI2 "$DSC" info "$WORK/big3.nc"
"$NCGEN" -k 64-bit-offset -o "$WORK/legacy.nc" "$L"
cp "$WORK/legacy.nc" "$WORK/hugedim.nc"
# the first dimension (longitude, 4) at byte 32 of the header made 2^31 - 1
printf '\177\377\377\377' | dd of="$WORK/hugedim.nc" bs=1 seek=32 conv=notrunc 2> /dev/null
expect_error "a dimension of 2^31 - 1 in a 64-bit offset header" "hugedim\\.nc: truncated or damaged netCDF header" \
  $MPI2 "$DSC" info "$WORK/hugedim.nc"
# a header count PnetCDF allocates for before reading (tests/fuzz found it;
# PnetCDF 1.12.3 wrote through the failed allocation): refused before it opens
expect_error "a variable of 1694564352 dimensions in a 64-bit offset header" \
  "crash_var_rank\\.nc: truncated or damaged netCDF header \\(variable 3 claims 1694564352 dimensions" \
  $MPI2 "$DSC" info "$top_srcdir/tests/fuzz/corpus/catalog/crash_var_rank.nc"
# variable sizes and offsets whose sum overflows 64 bits (tests/fuzz found it: UBSan,
# signed overflow in the file-size check)
expect_error "variable sizes and offsets beyond what a file can hold" \
  "size_overflow\\.nc: truncated or damaged netCDF header \\(its variable sizes and offsets reach beyond what a file can hold" \
  $MPI2 "$DSC" info "$top_srcdir/tests/fuzz/corpus/catalog/size_overflow.nc"

# ---- times inside one file: descending, and one time twice ----
sed -e 's/time = 1060680, 1060686, 1060692, 1060698 ;/time = 1060698, 1060692, 1060686, 1060680 ;/' "$L" > "$WORK/desc.cdl"
"$NCGEN" -k 64-bit-offset -o "$WORK/desc.nc" "$WORK/desc.cdl"
check "descending times are put in order" sh -c \
  "$MPI2 '$DSC' info '$WORK/desc.nc' > '$WORK/o' && grep -q '^time: 2021-01-01T00:00:00 .. 2021-01-01T18:00:00, 4 steps, every 6 hours' '$WORK/o'"
sed -e 's/time = 1060680, 1060686, 1060692, 1060698 ;/time = 1060680, 1060686, 1060686, 1060698 ;/' "$L" > "$WORK/dup.cdl"
"$NCGEN" -k 64-bit-offset -o "$WORK/dup.nc" "$WORK/dup.cdl"
check "a time twice in one file: a warning, the first kept" sh -c \
  "$MPI2 '$DSC' info '$WORK/dup.nc' > '$WORK/o' 2> '$WORK/e' && grep -q '1 duplicated time steps .*kept the first' '$WORK/e' \
   && grep -q ', 3 steps' '$WORK/o'"

# ---- CSV with CRLF line ends and a UTF-8 byte-order mark ----
D="$WORK/data"
check "dsc synth: one year, 16x16, 2 variables" "$DSC" synth -q -o "$D" --years 2001-2001 --grid 16x16 --regimes 4 --vars t2m,sp
sed 's/$/\r/' "$D/truth.csv" > "$WORK/crlf.csv"
# the mark before the first data line (no header line to hide it)
{ printf '\357\273\277'; sed 1d "$D/truth.csv"; } > "$WORK/bom.csv"
for f in crlf bom; do
  check "labels and truth as CSV with $f: read like the plain file (ARI 1)" sh -c \
    "$MPI2 '$DSC' eval -l '$WORK/$f.csv' --truth '$WORK/$f.csv' -o '$WORK/$f.json' '$D/era5_2001.nc' > /dev/null \
     && grep -q '\"ari\": 1,' '$WORK/$f.json'"
done

# ---- absurd years (dsc dates years -1000000 to 1000000): in --time-range
# and in a labels CSV, one error line, no overflow of the day count, no output
expect_error "--time-range START in the year 99999999" \
  "option --time-range: START '99999999-01-01': the year is out of range \\(years -1000000 to 1000000" \
  $MPI2 "$DSC" kmeans -k 2 --time-range 99999999-01-01/2000-01-01 -o "$WORK/y1" "$D/era5_2001.nc"
expect_error "--time-range END in the year 99999999" "option --time-range: END '99999999-12-31': the year is out of range" \
  $MPI2 "$DSC" kmeans -k 2 --time-range 2001-01-01/99999999-12-31 -o "$WORK/y2" "$D/era5_2001.nc"
{ sed -n 1,2p "$D/truth.csv"; echo '99999999-01-01,1'; sed 1,3d "$D/truth.csv"; } > "$WORK/year.csv"
expect_error "a labels CSV date in the year 99999999" "year\\.csv: line 3: '99999999-01-01' is not an ISO 8601 time" \
  $MPI2 "$DSC" eval -l "$WORK/year.csv" -o "$WORK/year.json" "$D/era5_2001.nc"
expect_error "a truth CSV date in the year 99999999" "year\\.csv: line 3: '99999999-01-01' is not an ISO 8601 time" \
  $MPI2 "$DSC" eval -l "$D/truth.csv" --truth "$WORK/year.csv" -o "$WORK/year.json" "$D/era5_2001.nc"
check "no output for the absurd years" sh -c "test ! -e '$WORK/y1' && test ! -e '$WORK/y2' && test ! -e '$WORK/year.json'"

# ---- paths with spaces and non-ASCII letters: a run stopped by a NaN at
# step 5 after a checkpoint at step 4, resumed from config.txt
P="$WORK/dir with spaces/Zürich ☀"
mkdir -p "$P"
cp "$D/era5_2001.nc" "$P/era5 2001 é.nc"
cp "$D/truth.csv" "$P/wahrheit ü.csv"
NET="-k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --batch 12 --pretrain-epochs 1 --max-iter 10 --update-interval 5 --kmeans-init 2"
expect_error "a run in a folder with spaces and non-ASCII letters, stopped by a NaN" "not finite at pre-training step 5" \
  env DSC_FAULT_NAN_STEP=5 $MPI2 "$DSC" train $NET --checkpoint-every 4 --truth "$P/wahrheit ü.csv" -o "$P/run ü 1" "$P/era5 2001 é.nc"
check "--resume of that folder reads its inputs from config.txt and finishes" sh -c \
  "$MPI2 '$DSC' train -q --resume '$P/run ü 1' && test -s '$P/run ü 1/labels.csv' && grep -q '\"ari\": ' '$P/run ü 1/metrics.json'"

# ---- output folders that cannot be made ----
: > "$WORK/afile"
expect_error "-o below a file" "cannot create output folder .*afile/run: Not a directory" $MPI2 "$DSC" train $NET -o "$WORK/afile/run" "$D/era5_2001.nc"
expect_error "-o below a folder that does not exist" "cannot create output folder .*no/such/run: No such file.*the folder .*no/such does not exist" \
  $MPI2 "$DSC" train $NET -o "$WORK/no/such/run" "$D/era5_2001.nc"
check "nothing was created" test ! -e "$WORK/no"
mkdir "$WORK/ro" && chmod a-w "$WORK/ro"
if [ -w "$WORK/ro" ]; then
  skip "-o in a read-only folder" "running as a user who can write into read-only folders"
else
  expect_error "-o in a read-only folder" "cannot create output folder .*ro/run" $MPI2 "$DSC" train $NET -o "$WORK/ro/run" "$D/era5_2001.nc"
fi
chmod u+w "$WORK/ro"

# ---- a damaged checkpoint.ckpt: one byte flipped, or empty ----
R="$P/run ü 2"
expect_error "a run stopped by a NaN at step 5 (checkpoint after 4 steps)" "not finite" \
  env DSC_FAULT_NAN_STEP=5 $MPI2 "$DSC" train $NET --checkpoint-every 4 -o "$R" "$D/era5_2001.nc"
cp -r "$R" "$WORK/empty"
size=$(wc -c < "$R/checkpoint.ckpt")
printf 'X' | dd of="$R/checkpoint.ckpt" bs=1 seek=$((size / 2)) conv=notrunc 2> /dev/null
expect_error "--resume from a checkpoint with one byte changed" "checkpoint.ckpt: .*checksum" $MPI2 "$DSC" train --resume "$R"
: > "$WORK/empty/checkpoint.ckpt"
expect_error "--resume from an empty checkpoint" "empty/checkpoint.ckpt: not a dsc checkpoint" $MPI2 "$DSC" train --resume "$WORK/empty"
check "the failed resumes wrote no labels" sh -c "test ! -e '$R/labels.csv' && test ! -e '$WORK/empty/labels.csv'"

# ---- bad configuration files ----
echo "clusters 4" > "$WORK/noeq.cfg"
printf 'no-such-key = 3\n' > "$WORK/key.cfg"
printf 'max-iter = four\n' > "$WORK/value.cfg"
TR="$MPI2 $DSC train $NET"
expect_error "--config FILE that does not exist" "nosuch\\.cfg: cannot open configuration file" $TR --config "$WORK/nosuch.cfg" -o "$WORK/c1" "$D/era5_2001.nc"
expect_error "--config: a line without '='" "noeq\\.cfg: line 1: no '=' in 'clusters 4'" $TR --config "$WORK/noeq.cfg" -o "$WORK/c2" "$D/era5_2001.nc"
expect_error "--config: an unknown key" "key\\.cfg: line 1: unknown key 'no-such-key'" $TR --config "$WORK/key.cfg" -o "$WORK/c3" "$D/era5_2001.nc"
NET0=$(echo "$NET" | sed 's/--max-iter 10 //')
expect_error "--config: a value that is not a number" "option --max-iter: 'four' is not an integer" \
  $MPI2 "$DSC" train $NET0 --config "$WORK/value.cfg" -o "$WORK/c4" "$D/era5_2001.nc"
check "no output folder for the bad configurations" sh -c "test ! -e '$WORK/c1' && test ! -e '$WORK/c2' && test ! -e '$WORK/c3' && test ! -e '$WORK/c4'"
printf '\357\273\277max-iter = 3\r\ninput = %s\r\n' "$D/era5_2001.nc" > "$WORK/dos.cfg"
check "--config with a byte-order mark and CRLF line ends is read" sh -c \
  "$MPI2 '$DSC' train $NET0 -q --config '$WORK/dos.cfg' -o '$WORK/c5' && grep -q '^max-iter = 3\$' '$WORK/c5/config.txt' \
   && grep -q '\"joint_steps\": 3,' '$WORK/c5/metrics.json'"
printf 'resume = %s\n' "$WORK/c5" > "$WORK/resume.cfg"
printf 'config = "%s"\n' "$WORK/dos.cfg" > "$WORK/config.cfg"
expect_error "--config: a 'resume' key is refused" "resume\\.cfg: line 1: 'resume' cannot be set in a configuration file" \
  $MPI2 "$DSC" train $NET --config "$WORK/resume.cfg" -o "$WORK/c6" "$D/era5_2001.nc"
expect_error "--config: a 'config' key is refused" "config\\.cfg: line 1: 'config' cannot be set in a configuration file" \
  $MPI2 "$DSC" train $NET --config "$WORK/config.cfg" -o "$WORK/c7" "$D/era5_2001.nc"
printf 'output = "run\n' > "$WORK/quote.cfg"
expect_error "--config: a quoted value without its closing quote" "quote\\.cfg: line 1: the value of 'output' has no closing quote" \
  $MPI2 "$DSC" train $NET --config "$WORK/quote.cfg" "$D/era5_2001.nc"
expect_error "--resume of a folder that does not exist names it" "--resume .*/nosuch: No such file or directory" \
  $MPI2 "$DSC" train --resume "$WORK/nosuch"

# ---- the output folder of dsc train as one unit (tiny network)
F="$D/era5_2001.nc"
TINY="-k 4 --conv 4,4,4,4,4 --lstm 8,8 --latent 4 --batch 32 --pretrain-epochs 1 --max-iter 10 --update-interval 5 --kmeans-init 2"
expect_error "-k 400 for 365 time steps, found after the folder was made" "-k 400 clusters for 365 time steps" \
  $MPI2 "$DSC" train $TINY -k 400 -o "$WORK/f1" "$F"
check "the failed run removed the folder it made" test ! -e "$WORK/f1"
check "... so the corrected command runs" $MPI2 "$DSC" train $TINY -q -o "$WORK/f1" "$F"
printf 'not netCDF\n' > "$WORK/notnc.nc"
mkdir "$WORK/f2"
expect_error "a bad input file, into an existing empty folder" "notnc\\.nc" $MPI2 "$DSC" train $TINY -o "$WORK/f2" "$WORK/notnc.nc"
check "the folder it did not make stays, empty" sh -c "test -d '$WORK/f2' && test -z \"\$(ls -A '$WORK/f2')\""
sum=$(cd "$WORK/f1" && cat config.txt labels.csv model.ckpt metrics.json | cksum)
expect_error "--force over a finished run with a bad input file" "notnc\\.nc" \
  $MPI2 "$DSC" train $TINY --force -o "$WORK/f1" "$WORK/notnc.nc"
expect_error "--force over a finished run, stopped by a NaN before any checkpoint" "not finite at pre-training step 3" \
  env DSC_FAULT_NAN_STEP=3 $MPI2 "$DSC" train $TINY --force -o "$WORK/f1" "$F"
check "the finished run's config.txt and outputs are as they were, nothing else is there" sh -c \
  "test \"\$(cd '$WORK/f1' && cat config.txt labels.csv model.ckpt metrics.json | cksum)\" = '$sum' && test \$(ls -A '$WORK/f1' | wc -l) = 8"

# config.txt values that need quotes: a folder named with a quote, '#', a
# newline and a trailing blank, an input with '#' and a trailing blank; the
# run stopped by a NaN at step 5 after a checkpoint at step 4 and resumed
# with a larger --max-iter and --checkpoint-every
Q="$WORK/run \"#1\"
 x "
cp "$F" "$WORK/data #2 .nc "
expect_error "a run into a folder named with a quote, '#', a newline and a trailing blank, stopped by a NaN" \
  "not finite at pre-training step 5" env DSC_FAULT_NAN_STEP=5 $MPI2 "$DSC" train $TINY --checkpoint-every 4 -o "$Q" "$WORK/data #2 .nc "
check "config.txt holds those paths quoted and escaped" sh -c "grep -q '^input = \".*data #2 \\.nc \"\$' \"\$1/config.txt\" \
   && grep -q '^output = \".*run \\\\\"#1\\\\\"\\\\n x \"\$' \"\$1/config.txt\"" sh "$Q"
check "uninterrupted run with --max-iter 12" $MPI2 "$DSC" train $TINY --max-iter 12 -q -o "$WORK/u12" "$F"
check "--resume of that folder with --max-iter 12 --checkpoint-every 100 finishes" $MPI2 "$DSC" train -q --resume "$Q" \
  --max-iter 12 --checkpoint-every 100
check "... with exactly the labels of the uninterrupted run and 12 joint steps" sh -c \
  "cmp '$WORK/u12/labels.csv' \"\$1/labels.csv\" && grep -q '\"joint_steps\": 12,' \"\$1/metrics.json\"" sh "$Q"
check "... recording the options given in config.txt" sh -c "grep -q '^max-iter = 12\$' \"\$1/config.txt\" \
   && grep -q '^checkpoint-every = 100\$' \"\$1/config.txt\" && grep -q '^# resumed at step 4; given then: --max-iter --checkpoint-every' \"\$1/config.txt\"" sh "$Q"

# a full device when the outputs are written: a 48 KiB tmpfs (needs mount
# privileges)
mkdir "$WORK/full"
if mount -t tmpfs -o size=48k tmpfs "$WORK/full" 2> /dev/null; then
  trap 'umount "$WORK/full" 2> /dev/null; rm -rf "$WORK"' EXIT
  expect_error "a device too small for the outputs: one line naming the folder and the reason" \
    "output folder .*full/run: no room for the outputs .*No space left on device" $MPI2 "$DSC" train $TINY -o "$WORK/full/run" "$F"
  check "... and no other message about writing (MPI-IO's own)" sh -c "! grep -v '^dsc: error:' '$WORK/err' | grep -qi 'write\|space'"
  check "... and no output, nor the folder, left" test ! -e "$WORK/full/run"
  umount "$WORK/full"
else
  for c in "a device too small for the outputs" "... no other message" "... no output left"; do skip "$c" "cannot mount a tmpfs"; done
fi

# a lock on the folder: a second run is refused while the first lives; a
# killed run (SIGKILL) leaves no lock behind
"$DSC" train $TINY --max-iter 100000000 --tol 0 --checkpoint-every 5 -q -o "$WORK/lk" "$F" > "$WORK/lk.log" 2>&1 &
lk=$!
i=0
while [ $i -lt 600 ] && [ ! -e "$WORK/lk/checkpoint.ckpt" ]; do sleep 0.1; i=$((i + 1)); done
expect_error "a second run into a folder in use (--force) is refused" "output folder .*lk is in use by another dsc train run" \
  $MPI2 "$DSC" train $TINY --force -o "$WORK/lk" "$F"
expect_error "--resume of a folder in use is refused" "output folder .*lk is in use by another dsc train run" \
  $MPI2 "$DSC" train --resume "$WORK/lk"
kill -KILL $lk
wait $lk
check "once that run is killed (SIGKILL), its lock is gone: a --force run goes ahead" \
  $MPI2 "$DSC" train $TINY --force -q -o "$WORK/lk" "$F"
# a run killed before its first checkpoint leaves an empty folder (and
# what a kill while writing the outputs leaves: a hidden staging folder,
# removed by the next run): the same command runs again without --force
"$DSC" train $TINY --max-iter 100000000 --tol 0 -o "$WORK/k1" "$F" > "$WORK/k1.log" 2>&1 &
k1=$!
i=0
while [ $i -lt 600 ] && ! grep -q 'pre-training epoch' "$WORK/k1.log"; do sleep 0.1; i=$((i + 1)); done
kill -KILL $k1
wait $k1
mkdir "$WORK/k1/.outputs.tmp.99999.0123456789abcdef" && : > "$WORK/k1/.outputs.tmp.99999.0123456789abcdef/labels.csv"
check "after a run killed before its first checkpoint, the same command runs again without --force" \
  $MPI2 "$DSC" train $TINY -q -o "$WORK/k1" "$F"
check "... and its folder holds the outputs, config.txt among them, and nothing else" sh -c \
  "test \"\$(ls -A '$WORK/k1' | tr '\n' ' ')\" = 'centroids.nc composites.nc config.txt labels.csv labels.nc latent.nc metrics.json model.ckpt '"
tap_done
