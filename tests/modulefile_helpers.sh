# shellcheck shell=bash
# modulefile_helpers.sh - sourced by modulefile.sh (Lmod) and
# modulefile_tcl.sh (Tcl Environment Modules): `make install` into a staging
# tree, then load, inspect and unload dsc with the module system whose
# initialisation the caller passes, and check what both modulefiles must
# agree on (they are generated from modulefiles/dsc.module.in).
#
#   modulefile_checks NAME SUFFIX INIT-COMMANDS
# NAME names the system in the check descriptions, SUFFIX is the file name
# ending of the modulefile it must load (.lua for Lmod, none for Tcl).

make_var() { sed -n "s/^$1 = //p" "$top_builddir/Makefile"; }

modulefile_checks() {
  _sys=$1; _suffix=$2; _init=$3
  dest="$WORK/dest"
  check "make install into a staging tree" make -C "$top_builddir" install DESTDIR="$dest"
  prefix=$(make_var prefix)
  version=$(make_var VERSION)
  mpi=$(make_var DSC_MPI)
  blas=$(make_var DSC_BLAS)
  root="$dest$prefix"
  modfile="$root/share/modulefiles/dsc/$version$_suffix"
  check "$_sys modulefile installed" test -f "$modfile"

  # A clean shell: no module function or state inherited from the caller.
  cat > "$WORK/module.sh" <<EOS
unset -f module ml 2> /dev/null
unset MODULEPATH MODULESHOME LOADEDMODULES _LMFILES_ BASH_ENV MODULEPATH_ROOT OMP_NUM_THREADS SLURM_CPUS_PER_TASK
unset \$(env | sed -n 's/^\(LMOD_[A-Za-z_]*\)=.*/\1/p;s/^\(__LMOD_[A-Za-z_]*\)=.*/\1/p;s/^\(MODULES_[A-Za-z_]*\)=.*/\1/p')
export MANPATH=
$_init
module use "$root/share/modulefiles" || exit 1
module load dsc || exit 1
echo "DSC=\$(command -v dsc)"
echo "ROOT=\$DSC_ROOT"
echo "THREADS=\$OMP_NUM_THREADS"
echo "MPI=\$DSC_MPI"
echo "BLAS=\$DSC_BLAS"
echo "FILE=\$_LMFILES_"
echo "MAN=\$(man -w dsc 2> /dev/null)"
dsc --version
echo "--- whatis"
module whatis dsc 2>&1
echo "--- help"
module help dsc 2>&1
echo "--- end"
module unload dsc
command -v dsc > /dev/null && echo "STILL_ON_PATH" || echo "UNLOADED"
echo "ROOT_AFTER=\$DSC_ROOT"
EOS
  bash "$WORK/module.sh" > "$WORK/module.out" 2>&1
  cp "$WORK/module.out" "$WORK/log"
  check "$_sys: module load puts the installed dsc on PATH" grep -qx "DSC=$root/bin/dsc" "$WORK/module.out"
  check "$_sys: the $_sys modulefile ($version$_suffix) is the one loaded" grep -qx "FILE=$modfile" "$WORK/module.out"
  check "$_sys: DSC_ROOT points at the (relocated) installation" grep -qx "ROOT=$root" "$WORK/module.out"
  check "$_sys: man dsc finds the installed man page through MANPATH" grep -qx "MAN=$root/share/man/man1/dsc.1" "$WORK/module.out"
  check "$_sys: one OpenMP thread per rank by default" grep -qx "THREADS=1" "$WORK/module.out"
  check "$_sys: DSC_MPI names the MPI of the build ($mpi)" grep -qxF "MPI=$mpi" "$WORK/module.out"
  check "$_sys: DSC_BLAS names the BLAS of the build ($blas)" grep -qxF "BLAS=$blas" "$WORK/module.out"
  check "$_sys: loaded dsc runs" grep -qx "dsc $version" "$WORK/module.out"
  sed -n '/^--- whatis$/,/^--- help$/p' "$WORK/module.out" > "$WORK/whatis"
  sed -n '/^--- help$/,/^--- end$/p' "$WORK/module.out" > "$WORK/help"
  # Every whatis and help line of the one description, as the module system shows it.
  _missing=""
  while IFS= read -r _line; do
    case "$_line" in
      whatis\ *) grep -qF -- "${_line#whatis }" "$WORK/whatis" || _missing="$_missing|${_line}" ;;
      help\ ?*) grep -qF -- "${_line#help }" "$WORK/help" || _missing="$_missing|${_line}" ;;
    esac
  done < "$top_builddir/modulefiles/dsc.module"
  : > "$WORK/log"
  [ -z "$_missing" ] || { echo "missing:$_missing" | tr '|' '\n' > "$WORK/log"; cat "$WORK/whatis" "$WORK/help" >> "$WORK/log"; }
  check "$_sys: module whatis and module help show every line of dsc.module.in" test -z "$_missing"
  check "$_sys: whatis names the MPI" grep -qF "MPI: $mpi" "$WORK/whatis"
  cp "$WORK/module.out" "$WORK/log"
  check "$_sys: module unload removes dsc from PATH" grep -qx "UNLOADED" "$WORK/module.out"
  check "$_sys: module unload removes DSC_ROOT" grep -qx "ROOT_AFTER=" "$WORK/module.out"
}
