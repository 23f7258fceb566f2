#!/bin/bash
# modulefile_tcl.sh - `make install` then `module load dsc` with real Tcl
# Environment Modules, initialised explicitly: the Debian package's init when
# it is installed, else modulecmd.tcl of an unpacked package (Debian's
# environment-modules conflicts with lmod, so jobscripts/quickstart.sh
# unpacks it into /opt/environment-modules; ENV_MODULES_CMD overrides).
. ./tests/testenv.sh
. "$top_srcdir/tests/modulefile_helpers.sh"

init=""
if [ -f /usr/share/modules/init/bash ]; then
  init=". /usr/share/modules/init/bash"
else
  for cmd in "${ENV_MODULES_CMD:-}" /opt/environment-modules/usr/lib/x86_64-linux-gnu/modulecmd.tcl \
             /opt/environment-modules/usr/lib/modulecmd.tcl; do
    [ -n "$cmd" ] && [ -f "$cmd" ] || continue
    tclsh=$(command -v tclsh8.6 || command -v tclsh) || break
    init="eval \"\$('$tclsh' '$cmd' bash autoinit)\""
    break
  done
fi
[ -n "$init" ] || skip_all "Tcl Environment Modules not found (Debian package environment-modules, unpacked by jobscripts/quickstart.sh check)"

modulefile_checks "Environment Modules" "" "$init"
tap_done
