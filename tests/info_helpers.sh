# info_helpers.sh - checks of `dsc info --json` shared by catalog.sh and info.sh
# (sourced after testenv.sh).

# check_info DESC NP EXPECTATION... -- DSC_INFO_ARGS...
# runs dsc info --json on NP ranks and checks the JSON with info_check.py;
# stderr must hold no warning unless an expectation is "warning=REGEX"
# (then exactly one warning line matching it).
check_info() {
  _desc=$1; _np=$2; shift 2
  _exp=""; _warn=""
  while [ "$1" != "--" ]; do
    case $1 in
      warning=*) _warn=${1#warning=} ;;
      *) _exp="$_exp
$1" ;;
    esac
    shift
  done
  shift
  : > "$WORK/log"
  if ! timeout 300 $(echo "$TESTMPIRUN" | sed "s/NP/$_np/") "$DSC" info --json "$@" > "$WORK/info.json" 2> "$WORK/info.err"; then
    cat "$WORK/info.err" > "$WORK/log"; fail "$_desc (dsc info failed)"; return
  fi
  _nwarn=$(grep -c '^dsc: warning:' "$WORK/info.err")
  if [ -z "$_warn" ] && [ "$_nwarn" -ne 0 ]; then
    cat "$WORK/info.err" > "$WORK/log"; fail "$_desc (unexpected warning)"; return
  fi
  if [ -n "$_warn" ] && { [ "$_nwarn" -ne 1 ] || ! grep '^dsc: warning:' "$WORK/info.err" | grep -Eq -- "$_warn"; }; then
    cat "$WORK/info.err" > "$WORK/log"; fail "$_desc (expected one warning matching /$_warn/)"; return
  fi
  # one expectation per line (values may hold spaces)
  if printf '%s\n' "$_exp" | sed '/^$/d' | tr '\n' '\0' | xargs -0 "$PYTHON" "$top_srcdir/tests/info_check.py" "$WORK/info.json" > "$WORK/log" 2>&1; then
    pass "$_desc"
  else
    fail "$_desc"
  fi
}

# check_twin DESC FILE...: dsc info --json at 2 ranks agrees with netCDF4-python
# (grid, time axis, missing values per variable)
check_twin() {
  _desc=$1; shift
  if ! "$PYTHON" -c "import netCDF4" 2> /dev/null; then skip "$_desc" "python3-netcdf4 not found"; return; fi
  : > "$WORK/log"
  if $(echo "$TESTMPIRUN" | sed "s/NP/2/") "$DSC" info --json "$@" > "$WORK/twin.json" 2> "$WORK/log" &&
     "$PYTHON" "$top_srcdir/tests/info_twin.py" "$WORK/twin.json" "$@" > "$WORK/log" 2>&1; then
    pass "$_desc"
  else
    fail "$_desc"
  fi
}
