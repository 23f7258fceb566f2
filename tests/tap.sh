# tap.sh - TAP helpers for the shell tests (sourced through testenv.sh).
#
#   pass DESC / fail DESC          one result line
#   check DESC CMD...              passes when CMD exits 0 (output to $WORK/log)
#   expect_error DESC REGEX CMD... passes when CMD exits non-zero within the
#                                  time limit, prints exactly one "dsc: error:"
#                                  line, and that line matches REGEX
#   skip_all REASON                the whole test is skipped (never a pass)
#   run_np N CMD...                runs CMD on N ranks with $TESTMPIRUN
#   tap_done                       prints the plan; exits 1 if any check failed
tap_n=0
tap_failed=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dsc-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
: > "$WORK/log"

pass() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
fail() {
  tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"
  if [ -s "$WORK/log" ]; then tail -n 20 "$WORK/log" | sed 's/^/# /'; fi
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

run_np() {
  _np=$1; shift
  # shellcheck disable=SC2086
  $(echo "$TESTMPIRUN" | sed "s/NP/$_np/") "$@"
}

# A command given as "run_np N CMD..." is expanded here, because timeout(1)
# cannot run a shell function.
check() {
  _desc=$1; shift
  if [ "$1" = run_np ]; then _np=$2; shift 2; set -- $(echo "$TESTMPIRUN" | sed "s/NP/$_np/") "$@"; fi
  : > "$WORK/log"
  if timeout 600 "$@" > "$WORK/log" 2>&1; then pass "$_desc"; else fail "$_desc"; fi
}

expect_error() {
  _desc=$1; _re=$2; shift 2
  if [ "$1" = run_np ]; then _np=$2; shift 2; set -- $(echo "$TESTMPIRUN" | sed "s/NP/$_np/") "$@"; fi
  : > "$WORK/log"
  timeout 120 "$@" > "$WORK/out" 2> "$WORK/err"
  _rc=$?
  cat "$WORK/out" "$WORK/err" > "$WORK/log"
  _lines=$(grep -c '^dsc: error:' "$WORK/err")
  if [ "$_rc" -eq 124 ]; then
    fail "$_desc (hung: killed after 120 s)"
  elif [ "$_rc" -eq 0 ]; then
    fail "$_desc (exit status 0)"
  elif [ "$_lines" -ne 1 ]; then
    fail "$_desc ($_lines error lines, expected 1)"
  elif ! grep '^dsc: error:' "$WORK/err" | grep -Eq -- "$_re"; then
    fail "$_desc (message does not match /$_re/)"
  else
    pass "$_desc"
  fi
}

# stop_when LOG PATTERN SIGNAL CMD...: runs CMD in the background, its output
# in LOG, sends it SIGNAL once LOG holds a line matching PATTERN (after 60 s
# without one, anyway), waits for it and leaves its exit status in stop_rc.
stop_when() {
  _log=$1 _pat=$2 _sig=$3; shift 3
  : > "$_log" # emptied here: the background job may open it late
  "$@" >> "$_log" 2>&1 &
  _pid=$!
  _i=0
  while [ $_i -lt 600 ] && ! grep -q -- "$_pat" "$_log"; do sleep 0.1; _i=$((_i + 1)); done
  kill -s "$_sig" $_pid
  wait $_pid
  stop_rc=$?
}

tap_done() {
  echo "1..$tap_n"
  [ "$tap_failed" -eq 0 ] || exit 1
  exit 0
}
