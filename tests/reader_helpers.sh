# reader_helpers.sh - sourced by tests/reader.sh and tests/netcdf4.sh: read
# files with tests/test_read and compare what it read with netCDF4-python.

READ=./tests/test_read
CMP="$PYTHON $top_srcdir/tests/reader_compare.py"

# read_files NP GRID OUT [OPTIONS] FILES...: OUT.raw (values read), OUT.t
# (times), OUT.x (pre-processed), OUT.vars (variable names in order); output
# in $WORK/log
read_files() {
  _np=$1 _grid=$2 _out=$3; shift 3
  run_np "$_np" "$READ" --process-grid "$_grid" --raw "$_out.raw" --times "$_out.t" -o "$_out.x" "$@" > "$_out.log" 2>&1
  _rc=$?
  cp "$_out.log" "$WORK/log"
  sed -n 's/^missing \([^ ]*\) .*/\1/p' "$_out.log" | paste -sd, - > "$_out.vars"
  return $_rc
}

# same_as_python DESC OUT [--daily-mean] [--box ...] FILES...: OUT.raw equals
# the values netCDF4-python reads (it unpacks and masks by itself) to 1e-6
same_as_python() {
  _desc=$1 _out=$2; shift 2
  if $CMP raw --bin "$_out.raw" --times "$_out.t" --vars "$(cat "$_out.vars")" "$@" > "$WORK/log" 2>&1; then
    pass "$_desc"
  else
    fail "$_desc"
  fi
}
