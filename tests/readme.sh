#!/bin/sh
# readme.sh - the command lines of the README's "Commands" section work as
# written, on a small data set, and leave the files the README says they
# write.
#
# Which lines: inside the section "## Commands" (up to the next "## "
# heading), the lines of the indented code blocks whose command, after any
# VAR=value words, is mpirun, dsc or dsc-plot; a trailing "# comment" is
# dropped.  Not run: the quick start (jobscripts/quickstart.sh installs
# Debian packages), "Building by hand" (this test runs in the built tree),
# the nccopy conversion (it needs a new-format CDS download) and the Slurm
# lines (tests/jobscripts.sh and tests/modulefile.sh run those).
#
# What is changed, with the sed rule SMALL below (each of its substitutions
# must still match a README line, so that a changed README is noticed):
#   mpirun -n N            mpirun --oversubscribe -n 2, as the README's note
#                          says for a small machine (here 2 cores)
#   dsc synth              2 years (2020-2021) on a 16x16 grid
#   dsc train, compare     a small network (NET), 1 seed; compare runs the
#                          k-means methods and dsc
#   dsc-plot               --no-tsne (PCA embedding: t-SNE takes long)
#   dsc info               --time-range within the 2 years; FILES... the files
#   dsc bench              batch 1 on a 16x16 grid of 2 variables, 1 iteration
# The README's folders all hold the one data set: the lines run in a folder
# where era5_sample is the synth output, sample links to it, era5_*.nc link
# to its files, and labels.csv to the labels of run1 (dsc train).  The synth
# line runs first, the others in README order.
. ./tests/testenv.sh

command -v mpirun > /dev/null || skip_all "mpirun is not installed (the README's lines use it)"
README="$top_srcdir/README.md"
NET="--conv 4,4,4,8,8 --lstm 8,8 --latent 4 --pretrain-epochs 1 --max-iter 10 --update-interval 5 --kmeans-init 2"
SMALL="s/^mpirun -n [0-9][0-9]* /mpirun --oversubscribe -n 2 /
s/--years 1979-2020 --grid 41x41 /--years 2020-2021 --grid 16x16 /
s/ dsc train / dsc train $NET /
s/ --seeds 5 / --seeds 1 --methods kmeans,kmeans-anomalies,dsc --train-options '$NET' /
s/^dsc-plot /dsc-plot --no-tsne /
s|--time-range 1990-01-01/1999-12-31 FILES\\.\\.\\.|--time-range 2020-06-01/2021-05-31 era5_sample/era5_*.nc|
s/ --batch 8 --grid 48x48 --vars 7\$/ --batch 1 --grid 16x16 --vars 2 --iterations 1 --warmup 0/"

awk '/^## / { cmds = ($0 == "## Commands") } cmds && /^    / {
       line = substr($0, 5); sub(/ +# .*$/, "", line); cmd = line
       while (cmd ~ /^[A-Z_]+=[^ ]* /) sub(/^[^ ]* /, "", cmd)
       if (cmd ~ /^(mpirun|dsc|dsc-plot) /) print line
     }' "$README" > "$WORK/lines"
# the synth line first: every other line reads its data
{ grep ' dsc synth ' "$WORK/lines"; grep -v ' dsc synth ' "$WORK/lines"; } > "$WORK/ordered"
n=$(wc -l < "$WORK/ordered")
cp "$WORK/ordered" "$WORK/log"
check "the README's Commands section has command lines, one dsc synth among them ($n lines)" \
  sh -c "[ $n -ge 8 ] && [ \$(grep -c ' dsc synth ' '$WORK/ordered') -eq 1 ]"
: > "$WORK/log"
echo "$SMALL" | while IFS= read -r rule; do
  sed -n "${rule}p" "$WORK/ordered" | grep -q . || echo "no README line for: $rule"
done > "$WORK/log"
check "every substitution of the test still matches a README line" test ! -s "$WORK/log"

R="$WORK/readme"
mkdir "$R"
ln -s era5_sample "$R/sample"
ln -s era5_sample/era5_2020.nc "$R/era5_2020.nc"
ln -s era5_sample/era5_2021.nc "$R/era5_2021.nc"
ln -s run1/labels.csv "$R/labels.csv"
PATH="$top_builddir:$PATH"
export PATH

# The files (or printed keys) the README names for a command line.
outputs() {
  case "$1" in
    *" dsc synth "*) echo "era5_sample/era5_2020.nc era5_sample/era5_2021.nc era5_sample/truth.csv era5_sample/manifest.txt" ;;
    *" dsc train "*) echo "run1/labels.csv run1/labels.nc run1/composites.nc run1/latent.nc run1/centroids.nc run1/metrics.json run1/model.ckpt run1/config.txt" ;;
    *" dsc kmeans "*) echo "km/labels.csv km/labels.nc km/composites.nc km/metrics.json" ;;
    *" dsc predict "*) echo "pred/labels.csv pred/labels.nc pred/metrics.json" ;;
    *" dsc compare "*) echo "cmp/compare.csv cmp/compare.md" ;;
    "dsc-plot "*) echo "run1/composites.png run1/timeline.png run1/seasonal.png run1/training.png run1/embedding.png" ;;
    *" dsc eval "*) echo "metrics.json" ;;
  esac
}

has_plot=1
"$PYTHON" -c 'import matplotlib, netCDF4' 2> /dev/null || has_plot=0
i=0
while IFS= read -r line; do
  i=$((i + 1))
  small=$(printf '%s\n' "$line" | sed "$SMALL")
  case "$small" in
    dsc-plot\ *) if [ $has_plot = 0 ]; then skip "README: $line" "matplotlib or netCDF4 is not available to $PYTHON"; continue; fi ;;
  esac
  : > "$WORK/log"
  if (cd "$R" && timeout 300 sh -c "$small" < /dev/null) > "$WORK/out.$i" 2> "$WORK/err.$i"; then
    missing=""
    for f in $(outputs "$small"); do
      [ -s "$R/$f" ] || missing="$missing $f"
      # the README names the yearly files era5_YYYY.nc
      grep -qF "$(basename "$f" | sed 's/_[0-9]\{4\}\.nc$/_YYYY.nc/')" "$README" || missing="$missing $f(not named in the README)"
    done
    case "$small" in
      *" dsc info --json "*) "$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if d["variables"] else 1)' \
                             "$WORK/out.$i" 2> /dev/null || missing="$missing (stdout is not JSON with variables)" ;;
      *" dsc info "*) grep -q '^variables: ' "$WORK/out.$i" || missing="$missing (no variables line)" ;;
      *" dsc bench "*) for k in train_samples_per_s infer_samples_per_s; do
                         grep -q "^$k " "$WORK/out.$i" || missing="$missing $k"; done ;;
    esac
    { echo "$small"; cat "$WORK/out.$i" "$WORK/err.$i"; } > "$WORK/log"
    if [ -z "$missing" ]; then pass "README: $line"; else fail "README: $line (missing:$missing)"; fi
  else
    { echo "$small"; cat "$WORK/out.$i" "$WORK/err.$i"; } > "$WORK/log"
    fail "README: $line (exit status non-zero)"
  fi
done < "$WORK/ordered"
tap_done
