#!/bin/bash
# modulefile.sh - `make install` then `module load dsc` with a real Lmod
# (its own initialisation, whatever /etc/profile.d holds).
. ./tests/testenv.sh
. "$top_srcdir/tests/modulefile_helpers.sh"

init=""
for f in /usr/share/lmod/lmod/init/bash /usr/share/lmod/lmod/init/profile; do
  [ -f "$f" ] && { init=$f; break; }
done
[ -n "$init" ] || skip_all "Lmod is not installed (Debian package lmod)"

modulefile_checks Lmod .lua "export LMOD_ALLOW_ROOT_USE=yes; . '$init'"
tap_done
