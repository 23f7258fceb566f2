#!/bin/bash
# manpage.sh - doc/dsc.1 against the program: every command of `dsc --help`
# has its section, and every option that `dsc CMD --help` prints appears in
# that section (or in a section it refers to, such as "Reader options") with
# the same short name, metavariable and default; no section documents an
# option the command does not have.  Then the page must render without
# warnings (groff -ww, man --warnings=w -l).
. ./tests/testenv.sh

page="$top_srcdir/doc/dsc.1"
check "doc/dsc.1 exists" test -s "$page"

# Source with font changes and escapes removed: \fB--clusters\fR -> --clusters.
sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e "s/\\\\(oq/'/g; s/\\\\(cq/'/g; s/\\\\(aq/'/g" -e 's/\\(mu/x/g' \
  -e 's/\\e/\\/g' "$page" > "$WORK/man.txt"
mkdir -p "$WORK/sec"
# One file per .SH/.SS section, named by its number; titles in $WORK/titles.
awk -v dir="$WORK/sec" '
  /^\.S[HS] / { n++; t = $0; sub(/^\.S[HS] +/, "", t); gsub(/"/, "", t); print n "\t" t > (dir "/../titles"); next }
  n { print > (dir "/" n) }' "$WORK/man.txt"

# Passes when FILE is empty; otherwise prints all of FILE (what is missing) and fails.
expect_empty() {
  : > "$WORK/log"
  if [ -s "$2" ]; then sed 's/^/# /' "$2"; fail "$1"; else pass "$1"; fi
}

section_of() { awk -F '\t' -v t="$1" '$2 == t { print $1; exit }' "$WORK/titles"; }

# The options of one --help output: NAME SHORT METAVAR DEFAULT (- when none).
help_options() {
  awk '
    /^Options:/ { on = 1; next }
    !on { next }
    {
      line = $0; short = "-"; meta = "-"; def = "-"
      if (match(line, /^  -[A-Za-z], /)) { short = substr(line, 4, 1); line = substr(line, 7) } else sub(/^ +/, "", line)
      if (line !~ /^--/) next
      name = line; sub(/ .*/, "", name); sub(/^--/, "", name)
      rest = substr(line, length(name) + 3)
      # A metavariable follows the name after exactly one space; the help text after the padding.
      if (rest ~ /^ [^ ]/) { meta = substr(rest, 2); sub(/ .*/, "", meta) }
      if (match(line, /\(default: [^)]*\)$/)) def = substr(line, RSTART + 10, RLENGTH - 11)
      if (name != "help") print name, short, meta, def
    }'
}

# The entries of a section: TAG-LINE<tab>BODY for every .TP.
entries() {
  awk '
    /^\.TP/ { if (tag != "") print tag "\t" body; tag = ""; body = ""; want = 1; next }
    /^\.(PP|SS|SH)/ { if (tag != "") print tag "\t" body; tag = ""; want = 0; next }
    want == 1 { tag = $0; sub(/^\.BR? /, "", tag); gsub(/"/, "", tag); want = 2; next }
    want == 2 { body = body " " $0 }
    END { if (tag != "") print tag "\t" body }' "$@"
}

"$DSC" --help > "$WORK/usage" 2>&1
commands=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' "$WORK/usage")
check "dsc --help lists commands" test -n "$commands"

version=$("$DSC" --version)
check "the page's .TH names $version" grep -q "^\.TH DSC 1 .*\"$version\"" "$page"
check "the page documents -h/--help and -V/--version" \
  sh -c "grep -q -- '-h, --help' '$WORK/man.txt' && grep -q -- '-V, --version' '$WORK/man.txt'"

for cmd in $commands; do
  : > "$WORK/problems"
  sec=$(section_of "dsc $cmd")
  if [ -z "$sec" ]; then
    echo "doc/dsc.1 has no section .SS \"dsc $cmd\"" > "$WORK/problems"
    fail "dsc $cmd: documented in doc/dsc.1"
    continue
  fi
  grep -q "^\.B $cmd$" "$WORK/sec/$(section_of COMMANDS)" || echo "dsc $cmd: not in the list under COMMANDS" >> "$WORK/problems"
  # The command's own section and the option sections it refers to.
  cp "$WORK/sec/$sec" "$WORK/region"
  while IFS=$'\t' read -r n title; do
    case "$title" in dsc\ *|[A-Z][A-Z]*) continue ;; esac
    grep -qF "$title" "$WORK/sec/$sec" && { echo ".SS $title"; cat "$WORK/sec/$n"; } >> "$WORK/region"
  done < "$WORK/titles"
  entries "$WORK/region" > "$WORK/entries"
  "$DSC" "$cmd" --help > "$WORK/help" 2>&1
  help_options < "$WORK/help" > "$WORK/options"
  [ -s "$WORK/options" ] || echo "dsc $cmd --help printed no options" >> "$WORK/problems"
  while read -r name short meta def; do
    tag=$(awk -F '\t' -v n="--$name" '{ split($1, w, /[ ,]+/); for (i in w) if (w[i] == n) { print $1; exit } }' "$WORK/entries")
    body=$(awk -F '\t' -v n="--$name" '{ split($1, w, /[ ,]+/); for (i in w) if (w[i] == n) { print $2; exit } }' "$WORK/entries")
    if [ -z "$tag" ]; then echo "dsc $cmd: option --$name is missing from doc/dsc.1"; continue; fi
    [ "$short" = - ] || case "$tag" in "-$short, --$name"*) ;; *) echo "dsc $cmd: --$name: the page does not give its short name -$short ($tag)" ;; esac
    [ "$meta" = - ] || case " $tag " in *" --$name $meta "*) ;; *) echo "dsc $cmd: --$name: the page does not give it as '--$name $meta' ($tag)" ;; esac
    [ "$meta" != - ] || case " $tag " in *" --$name ") ;; *) echo "dsc $cmd: --$name takes no value, the page gives '$tag'" ;; esac
    [ "$def" = - ] || [ "$def" = off ] || case "$body" in *"default: $def"*) ;; *) echo "dsc $cmd: --$name: the page does not give its default '$def'" ;; esac
  done < "$WORK/options" >> "$WORK/problems"
  # The reverse: options the command's own section documents must exist.
  entries "$WORK/sec/$sec" | cut -f 1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u | while read -r opt; do
    awk -v n="${opt#--}" '$1 == n { f = 1 } END { exit !f }' "$WORK/options" ||
      echo "dsc $cmd: doc/dsc.1 documents $opt, which dsc $cmd --help does not have"
  done >> "$WORK/problems"
  expect_empty "dsc $cmd: every option of --help in doc/dsc.1 (short name, metavariable, default)" "$WORK/problems"
done

for s in "EXIT STATUS" ENVIRONMENT FILES; do
  check "doc/dsc.1 has the section $s" test -n "$(section_of "$s")"
done
check "EXIT STATUS gives 0, 1 and 3" sh -c "grep -A1 '^\.TP' '$WORK/sec/$(section_of "EXIT STATUS")' | grep -c '^\.B [013]$' | grep -qx 3"
for v in OMP_NUM_THREADS OPENBLAS_CORETYPE DSC_READ_CHUNK_BYTES; do
  check "ENVIRONMENT documents $v" grep -qx "\.B $v" "$WORK/sec/$(section_of ENVIRONMENT)"
done
# Every DSC_* variable a job script reads.
: > "$WORK/log"
for f in "$top_srcdir"/jobscripts/*.sbatch; do
  grep -o '\${DSC_[A-Z_]*' "$f" | sed 's/^\${//' | sort -u | while read -r v; do
    grep -qx "\.B $v" "$WORK/sec/$(section_of ENVIRONMENT)" || echo "$(basename "$f"): $v is not under ENVIRONMENT"
  done
done > "$WORK/problems"
expect_empty "ENVIRONMENT documents every DSC_* variable of jobscripts/*.sbatch" "$WORK/problems"
for f in labels.csv labels.nc composites.nc latent.nc centroids.nc metrics.json model.ckpt config.txt checkpoint.ckpt truth.csv; do
  grep -qx "\.I $f" "$WORK/sec/$(section_of FILES)" || echo "$f"
done > "$WORK/problems"
expect_empty "FILES documents every output file" "$WORK/problems"

if command -v groff > /dev/null; then
  groff -man -ww -Tutf8 "$page" 2> "$WORK/problems" > /dev/null
  expect_empty "groff -man -ww renders doc/dsc.1 without warnings" "$WORK/problems"
else
  skip "groff -man -ww renders doc/dsc.1 without warnings" "groff is not installed (Debian package groff-base)"
fi
if command -v man > /dev/null; then
  MANWIDTH=80 man --warnings=w -l "$page" 2> "$WORK/problems" > "$WORK/rendered"
  expect_empty "man -l renders doc/dsc.1 without warnings" "$WORK/problems"
  cp "$WORK/rendered" "$WORK/log"
  check "the rendered page has every command section" \
    sh -c "for c in $(echo $commands); do grep -q \"^   dsc \$c\$\" '$WORK/rendered' || exit 1; done"
else
  skip "man -l renders doc/dsc.1 without warnings" "man is not installed (Debian package man-db)"
fi
tap_done
