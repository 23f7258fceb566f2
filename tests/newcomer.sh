#!/bin/sh
# newcomer.sh - what a newcomer trips over: `dsc help CMD`, help texts that
# fit their column, the README's note on --oversubscribe, test tools found
# when the tests run (not when configure ran), one clear message for each of
# --vars on a file with many variables, a too small --sample, UTF-16 / NUL /
# byte-order-mark labels files and a checkpoint with an unknown activation,
# and a build tree that make check leaves clean for git.
. ./tests/testenv.sh

"$PYTHON" -c 'import numpy' 2>/dev/null || skip_all "numpy is not available to $PYTHON"
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
COMMANDS="synth info train kmeans ward predict eval compare bench"

# ---- help ----------------------------------------------------------------------
# COMMANDS is every command `dsc --help` lists, in its order (a new command
# must be added above to have its help checked).
check "dsc --help lists exactly the commands checked here" sh -c \
  "'$DSC' --help | awk '/^Commands:/ { c = 1; next } c && /^  [a-z]+ / { printf \"%s%s\", n++ ? \" \" : \"\", \$1 } /^\$/ { c = 0 }
   END { print \"\" }' > '$WORK/cmds' && echo '$COMMANDS' | cmp - '$WORK/cmds'"
for c in $COMMANDS; do
  check "dsc help $c prints the help of dsc $c" sh -c \
    "'$DSC' help $c > '$WORK/h1' && '$DSC' $c --help > '$WORK/h2' && cmp '$WORK/h1' '$WORK/h2' \
     && test \$(grep -c '^Usage: dsc $c ' '$WORK/h1') -eq 1"
done
check "dsc help train on 2 ranks prints it once" sh -c \
  "$(launcher 2) '$DSC' help train > '$WORK/h1' && '$DSC' train --help > '$WORK/h2' && cmp '$WORK/h1' '$WORK/h2'"
expect_error "dsc help of an unknown command" "dsc help: unknown command 'nosuch'" "$DSC" help nosuch
# Option lines: the help text starts in column 34, or the option stands on a
# line of its own and its help follows, indented to column 34.
for c in $COMMANDS; do
  "$DSC" $c --help > "$WORK/help.$c" 2>&1
  check "dsc $c --help: every help text starts in its column" awk '
    function aligned(l) { if (substr(l, 33, 1) != " " || substr(l, 34, 1) == " ") bad = bad " [" l "]" }
    /^Options:/ { opt = 1; next }
    !opt { next }
    /^  -|^      --/ { if (prev != "") aligned(prev); prev = $0; next }
    { if (prev == "" || substr($0, 1, 33) !~ /^ *$/ || substr($0, 34, 1) == " ") bad = bad " [" $0 "]"; prev = "" }
    END { if (prev != "") aligned(prev); if (bad != "") { print "misaligned:" bad; exit 1 } }' "$WORK/help.$c"
done

# ---- README -----------------------------------------------------------------------
check "README: --oversubscribe is explained before the first 'mpirun -n 4' command" awk '
  /^## Commands/ { cmds = 1 }
  cmds && /--oversubscribe/ && /not enough slots|oversubscribe/ { told = 1 }
  cmds && /^    mpirun -n 4 / { if (!told) exit 1; found = 1; exit 0 }
  END { exit !found }' "$top_srcdir/README.md"

# ---- tools found when the tests run -------------------------------------------------
mkdir "$WORK/bin"
printf '#!/bin/sh\necho fake cdo\n' > "$WORK/bin/cdo"
chmod +x "$WORK/bin/cdo"
sed -e "s|@CDO@||" -e "s|@NCGEN@|/nonexistent/ncgen|" -e "s|@[A-Z]*@||g" "$top_srcdir/tests/testenv.sh.in" \
  | grep -v '^\. ' > "$WORK/testenv.sh"
check "a tool installed after configure ran (cdo) is found on PATH by the tests" sh -c \
  "PATH='$WORK/bin':\$PATH; . '$WORK/testenv.sh'; test \"\$CDO\" = '$WORK/bin/cdo'"
check "a configured tool that is gone (ncgen) is looked up again" sh -c \
  "PATH='$WORK/bin':\$PATH; . '$WORK/testenv.sh'; test \"\$NCGEN\" != /nonexistent/ncgen"

# ---- messages ---------------------------------------------------------------------------
D="$WORK/data"
check "dsc synth writes one year on a 16x16 grid" "$DSC" synth -q -o "$D" --years 2001 --grid 16x16 --regimes 4
FILES="$D/era5_2001.nc"
expect_error "eval --sample 1" "option --sample: 1 time steps are too few for 4 clusters.*at least 5" \
  run_np 2 "$DSC" eval --labels "$D/truth.csv" --sample 1 -o "$WORK/m.json" $FILES
expect_error "kmeans --sample 3 -k 3" "dsc kmeans: option --sample: 3 time steps are too few for 3 clusters" \
  "$DSC" kmeans -k 3 --sample 3 -o "$WORK/km" $FILES
"$PYTHON" -c 'import sys; open(sys.argv[2], "wb").write(open(sys.argv[1], encoding="utf-8").read().encode("utf-16"))' \
  "$D/truth.csv" "$WORK/utf16.csv"
expect_error "a UTF-16 labels file" "utf16.csv: the file is UTF-16 text; save it as UTF-8" \
  run_np 2 "$DSC" eval --labels "$WORK/utf16.csv" -o "$WORK/m.json" $FILES
{ head -n 3 "$D/truth.csv"; printf '2001-01-03T00:00:00,1\0002\n'; tail -n +4 "$D/truth.csv"; } > "$WORK/nul.csv"
expect_error "a labels file with a NUL byte" "nul.csv: line 4 holds a NUL byte" \
  "$DSC" eval --labels "$WORK/nul.csv" -o "$WORK/m.json" $FILES
{ printf '\357\273\277'; tail -n +2 "$D/truth.csv"; } > "$WORK/bom.csv"
check "a UTF-8 byte order mark without header: every label is read (ARI = 1 against truth.csv)" sh -c \
  "'$DSC' eval --labels '$WORK/bom.csv' --truth '$D/truth.csv' -o '$WORK/bom.json' $FILES > /dev/null \
   && grep -q '\"ari\": 1[,.]' '$WORK/bom.json' && test \$(grep -c '' '$WORK/bom.csv') -eq 365"
expect_error "eval -o a folder names the folder, not the disk space" "option -o .* is a folder; give a file name" \
  "$DSC" eval --labels "$D/truth.csv" -o "$WORK" $FILES

check "a small checkpoint" ./tests/make_checkpoint "$WORK/ok.ckpt" 7 16 16 5
check "the same checkpoint with activation code 7 (checksum recomputed)" "$PYTHON" -c '
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
assert struct.unpack_from("<i", b, 52)[0] in (0, 1, 2)
struct.pack_into("<i", b, 52, 7)
h = 0xcbf29ce484222325
for x in b[:-8]:
    h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
struct.pack_into("<Q", b, len(b) - 8, h)
open(sys.argv[2], "wb").write(b)
' "$WORK/ok.ckpt" "$WORK/bad.ckpt"
check "... the original is accepted" sh -c \
  "'$DSC' eval --labels '$D/truth.csv' --metric-space latent --model '$WORK/ok.ckpt' -o '$WORK/ok.json' $FILES > /dev/null"
expect_error "... the one with an unknown activation is refused" "bad.ckpt: unknown activation code 7" \
  run_np 2 "$DSC" eval --labels "$D/truth.csv" --metric-space latent --model "$WORK/bad.ckpt" -o "$WORK/m.json" $FILES

# A file with more field variables than the reader looks at: --vars picks
# one, and without --vars the message says to use it.
if [ -n "$NCGEN" ]; then
  {
    echo 'netcdf many { dimensions: time = 2 ; latitude = 16 ; longitude = 16 ; variables:'
    echo ' double time(time) ; time:units = "hours since 1900-01-01" ; time:calendar = "gregorian" ;'
    echo ' float latitude(latitude) ; latitude:units = "degrees_north" ;'
    echo ' float longitude(longitude) ; longitude:units = "degrees_east" ;'
    i=1; while [ $i -le 70 ]; do echo " float f$i(time, latitude, longitude) ;"; i=$((i + 1)); done
    echo ' float t2m(time, latitude, longitude) ; t2m:units = "K" ;'
    echo 'data: time = 876600, 876624 ;'
    printf ' t2m = '; i=1; while [ $i -lt 512 ]; do printf '%d, ' $((270 + i % 31)); i=$((i + 1)); done; echo '280 ;'
    echo ' latitude = 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30 ;'
    echo ' longitude = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 ; }'
  } > "$WORK/many.cdl"
  check "ncgen writes a file with 71 field variables" "$NCGEN" -o "$WORK/many.nc" "$WORK/many.cdl"
  check "dsc info --vars t2m reads it" "$DSC" info --vars t2m "$WORK/many.nc"
  expect_error "... without --vars the message says to choose with --vars" "more than 64 field variables; choose some with --vars" \
    "$DSC" info "$WORK/many.nc"
else
  skip "a file with 71 field variables" "ncgen is not installed"
fi

# ---- a clean tree after make check ------------------------------------------------------
# Everything the build and the tests leave in the tree (programs, objects,
# logs, the modulefile) is ignored by git: only sources can show up.
if command -v git > /dev/null && git -C "$top_srcdir" rev-parse --git-dir > /dev/null 2>&1 &&
   [ "$(cd "$top_srcdir" && pwd -P)" = "$(cd "$top_builddir" && pwd -P)" ]; then
  check "git status shows no generated file after the build and the tests" sh -c \
    "git -C '$top_srcdir' status --porcelain --untracked-files=all | sed -n 's/^?? //p' \
     | grep -Ev '\\.(c|h|sh|py|md|in|am|ac|cdl|supp)\$|^(jobscripts|doc|bench|include|src|tests/data)/' > '$WORK/untracked'; \
     cat '$WORK/untracked'; test ! -s '$WORK/untracked'"
else
  skip "git status after the tests" "not a git checkout built in place"
fi
tap_done
