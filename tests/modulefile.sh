#!/bin/bash
# modulefile.sh - `make install` then `module load dsc` with a real Lmod.
. ./tests/testenv.sh

init=""
for f in /usr/share/lmod/lmod/init/bash /usr/share/lmod/lmod/init/profile /etc/profile.d/lmod.sh; do
  [ -f "$f" ] && { init=$f; break; }
done
[ -n "$init" ] || skip_all "Lmod is not installed (Debian package lmod)"

dest="$WORK/dest"
check "make install into a staging tree" make -C "$top_builddir" install DESTDIR="$dest"
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
root="$dest$prefix"
modfile="$root/share/modulefiles/dsc/$(sed -n 's/^VERSION = //p' "$top_builddir/Makefile").lua"
check "modulefile installed" test -f "$modfile"

cat > "$WORK/lmod.sh" <<EOS
export LMOD_ALLOW_ROOT_USE=yes
. "$init"
unset OMP_NUM_THREADS
module use "$root/share/modulefiles" || exit 1
module load dsc || exit 1
command -v dsc
echo "ROOT=\$DSC_ROOT"
echo "THREADS=\$OMP_NUM_THREADS"
dsc --version
module whatis dsc 2>&1
module unload dsc
command -v dsc > /dev/null && echo "STILL_ON_PATH" || echo "UNLOADED"
EOS
bash "$WORK/lmod.sh" > "$WORK/lmod.out" 2>&1
cp "$WORK/lmod.out" "$WORK/log"
check "module load puts the installed dsc on PATH" grep -qx "$root/bin/dsc" "$WORK/lmod.out"
check "DSC_ROOT points at the (relocated) installation" grep -qx "ROOT=$root" "$WORK/lmod.out"
check "one OpenMP thread per rank by default" grep -qx "THREADS=1" "$WORK/lmod.out"
check "loaded dsc runs" grep -q "^dsc [0-9]" "$WORK/lmod.out"
check "module whatis describes dsc" grep -q "Deep\|weather regimes" "$WORK/lmod.out"
check "module unload removes it" grep -qx "UNLOADED" "$WORK/lmod.out"
tap_done
