#!/bin/sh
# json.sh - every number dsc writes into a JSON file goes through json.h:
# NaN and infinities become null with one warning, the file stays JSON (a
# strict parser that refuses NaN and Infinity reads it), and finite figures
# keep their value and stated decimals.  tests/json_document writes a
# metrics.json of every kind of field (inertia, PCA, metrics, timings);
# the last check finds JSON numbers printed around the writer in src/.
. ./tests/testenv.sh

DOC="$top_builddir/tests/json_document"
CHECK="$top_srcdir/tests/json_check.py"

check "finite figures: JSON with their values and decimals, no warning" sh -c \
  "'$DOC' finite > '$WORK/finite.json' 2> '$WORK/finite.err' && '$PYTHON' '$CHECK' finite '$WORK/finite.json' &&
   ! grep . '$WORK/finite.err'"
check "NaN and infinities: JSON with null in every floating-point field" sh -c \
  "'$DOC' nonfinite > '$WORK/bad.json' 2> '$WORK/bad.err'; '$PYTHON' '$CHECK' nonfinite '$WORK/bad.json'"
cp "$WORK/bad.err" "$WORK/log"
if [ "$(grep -c '^dsc: warning:' "$WORK/bad.err")" -eq 1 ] &&
   grep -q '^dsc: warning: inertia could not be computed (nan); written as null$' "$WORK/bad.err"; then
  pass "one warning for the file, naming the first field (inertia)"
else
  fail "one warning for the file, naming the first field (inertia)"
fi
check "src/: no JSON number printed around json.h" "$PYTHON" "$CHECK" sources "$top_srcdir/src"
tap_done
