#!/bin/sh
# layering.sh - the house rules of src/ (doc/house.md): every source file in a
# stage folder; include arrows point down the stages (cmd -> cluster -> run ->
# data, nn, metrics -> core); no include circle between modules; no function
# over 120 lines; doc/house.md names every source file and test.  The checker
# is then shown to catch each kind of break on a copy of src/ with one planted.
. ./tests/testenv.sh

CHECK="$top_srcdir/tests/layering.py"
SRC="$top_srcdir/src"
INC="$top_srcdir/include"

check "every source file lies in a stage folder of src/" "$PYTHON" "$CHECK" folders "$SRC"
check "include arrows point down the stages" "$PYTHON" "$CHECK" stages "$SRC" "$INC"
check "no include circle between modules" "$PYTHON" "$CHECK" circles "$SRC" "$INC"
check "no function over 120 lines" "$PYTHON" "$CHECK" lengths "$SRC"
check "doc/house.md names every source file and test, and only files that exist" "$PYTHON" "$CHECK" map "$SRC" \
  "$top_srcdir/doc/house.md" "$top_srcdir/tests"

# The checker on planted breaks, each in a fresh copy
plant() {
  rm -rf "$WORK/src" "$WORK/include"
  cp -r "$SRC" "$WORK/src" && cp -r "$INC" "$WORK/include"
}
plant
printf '#include "train.h"\n' >> "$WORK/src/data/preprocess.c"
expect_found() { # DESC PATTERN MODE ARGS...: the checker fails and prints PATTERN
  _d=$1 _p=$2; shift 2
  if "$PYTHON" "$CHECK" "$@" > "$WORK/out" 2>&1; then fail "$_d"
  elif grep -q "$_p" "$WORK/out"; then pass "$_d"; else cp "$WORK/out" "$WORK/log"; fail "$_d"; fi
}
expect_found "a data file including a cluster header is caught" "preprocess.c (data) includes train.h (cluster)" \
  stages "$WORK/src" "$WORK/include"
plant
printf '#include "model.h"\n' >> "$WORK/src/metrics/silhouette.c"
expect_found "a sideways arrow (metrics -> nn) is caught" "silhouette.c (metrics) includes model.h (nn)" \
  stages "$WORK/src" "$WORK/include"
plant
printf '#include "optimizer.h"\n' >> "$WORK/include/checkpoint.h"
printf '#include "checkpoint.h"\n' >> "$WORK/src/nn/optimizer.c"
expect_found "an include circle is caught" "include circle: .*checkpoint.*optimizer" circles "$WORK/src" "$WORK/include"
plant
{ printf 'int long_function(void)\n{\n    int x = 0;\n'; i=0; while [ $i -lt 130 ]; do printf '    x += %d;\n' $i; i=$((i + 1)); done
  printf '    return x;\n}\n'; } >> "$WORK/src/core/timing.c"
expect_found "a function of 135 lines is caught" "long_function is 135 lines" lengths "$WORK/src"
plant
cp "$WORK/src/core/timing.c" "$WORK/src/loose.c"
expect_found "a source file outside the stage folders is caught" "loose.c: not in a stage folder" folders "$WORK/src"
plant
cp "$WORK/src/core/timing.c" "$WORK/src/core/stopwatch.c"
expect_found "a source file the map does not name is caught" "does not name src/core/stopwatch.c" map "$WORK/src" \
  "$top_srcdir/doc/house.md" "$top_srcdir/tests"
tap_done
