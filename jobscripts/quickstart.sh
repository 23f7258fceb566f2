#!/bin/bash
# quickstart.sh - set up, build and run dsc on a fresh Debian 12 machine.
#
#   bash jobscripts/quickstart.sh run     # build, write the sample data set, train DSC on it on 2 ranks
#   bash jobscripts/quickstart.sh check   # build and run the whole test suite (make check)
#
# Installs the Debian packages it needs when they are missing (as root, or
# through sudo), then builds in the source tree.  Safe to run again.
set -eo pipefail

mode=${1:-run}
case "$mode" in run|check) ;; *) echo "usage: $0 run|check" >&2; exit 2 ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

build_packages="gcc make autoconf automake libtool pkg-config libopenmpi-dev openmpi-bin libpnetcdf-dev pnetcdf-bin libopenblas-dev libnetcdf-mpi-dev libhdf5-openmpi-dev netcdf-bin"
test_packages="cdo nco python3 python3-numpy python3-netcdf4 python3-sklearn python3-scipy python3-matplotlib python3-torch slurm-wlm munge lmod procps tcl groff-base man-db valgrind cppcheck clang libclang-rt-dev libomp-dev"
packages=$build_packages
[ "$mode" = check ] && packages="$build_packages $test_packages"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "quickstart: installing$missing"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi

# Tcl Environment Modules for tests/modulefile_tcl.sh: Debian's environment-modules
# conflicts with lmod, so it is unpacked into /opt/environment-modules, not installed.
em=/opt/environment-modules
if [ "$mode" = check ] && [ ! -f /usr/share/modules/init/bash ] && [ ! -f $em/usr/lib/x86_64-linux-gnu/modulecmd.tcl ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  tmp=$(mktemp -d)
  chmod 755 "$tmp"
  if (cd "$tmp" && $sudo apt-get download -q environment-modules) && $sudo mkdir -p $em &&
     $sudo dpkg-deb -x "$tmp"/environment-modules_*.deb $em; then
    echo "quickstart: unpacked environment-modules into $em"
  else
    echo "quickstart: could not unpack environment-modules; tests/modulefile_tcl.sh will be skipped"
  fi
  rm -rf "$tmp"
fi

if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
make -j"$jobs"

if [ "$mode" = check ]; then
  status=0
  make -j"$jobs" check 2>&1 | tee check.out || status=$?
  [ -f test-suite.log ] && grep -q "^# FAIL: *[1-9]\|^# ERROR: *[1-9]" test-suite.log && cat test-suite.log
  pass=$(sed -n 's/^# PASS: *//p' check.out | tail -n 1)
  fail=$(sed -n 's/^# FAIL: *//p' check.out | tail -n 1)
  error=$(sed -n 's/^# ERROR: *//p' check.out | tail -n 1)
  skipped=$(sed -n 's/^# SKIP: *//p' check.out | tail -n 1)
  echo "${pass:-0} passed, $(( ${fail:-0} + ${error:-0} )) failed, ${skipped:-0} skipped"
  exit "$status"
fi

launcher="mpirun -n 2"
mpirun --version 2>&1 | grep -qi "open mpi" && launcher="mpirun --oversubscribe -n 2"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
echo "quickstart: writing the sample data set to sample/, as the new CDS delivers ERA5 (compressed netCDF-4)"
# --force: a sample/ of an earlier quick start in the legacy encoding is replaced
$launcher ./dsc synth --encoding newcds --force -o sample
echo "quickstart: main job: dsc train on 2 ranks (a reduced-width network), outputs in run1/"
# The network's widths are reduced (the paper's are the defaults: 64,64,128,256,512 / 512,512 /
# 256) so that the job takes a few minutes on 2 cores (the default pre-training, auto, runs 88
# epochs on these 3 years: 96,000 samples); per-cell scaling of the anomalies gave the best DSC
# results on this data (doc/training.md).
$launcher ./dsc train -k 7 --anomalies --scaling cell --conv 8,8,16,32,64 --lstm 64,64 --latent 16 --max-iter 200 \
  --truth sample/truth.csv --force -o run1 sample/era5_*.nc
echo "quickstart: for comparison, the standard weather-regime method: k-means on the same anomalies, outputs in km1/"
$launcher ./dsc kmeans -k 7 --anomalies --truth sample/truth.csv --force -o km1 sample/era5_*.nc

# The mean length of a regime episode (metrics.json "regimes"), and the same for the planted
# regimes of truth.csv: runs of one label, ended by a gap in the dates (a spacing above 1.5 steps).
episode_days() { sed -n 's/.*"mean_episode_days": \([^,]*\),.*/\1/p' "$1" | head -n 1 | awk '{printf "%.1f", $1}'; }
truth_days=$(awk -F, '
  function hours(s,   y, m, d, h, a) { # hours since 0000-03-01, proleptic Gregorian
    y = substr(s, 1, 4) + 0; m = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0; h = substr(s, 12, 2) + 0
    if (m <= 2) { y--; m += 12 }
    a = 365 * y + int(y / 4) - int(y / 100) + int(y / 400) + int((153 * (m - 3) + 2) / 5) + d
    return a * 24 + h
  }
  $1 == "time" || $1 ~ /^#/ || NF < 2 { next }
  { t = hours($1)
    if (n > 0 && step == 0) step = t - prev
    if (n == 0 || $2 != last || t - prev > 1.5 * step) runs++
    n++; prev = t; last = $2 }
  END { if (runs) printf "%.1f", n / runs * (step ? step : 24) / 24 }' sample/truth.csv)
echo "mean episode length: DSC $(episode_days run1/metrics.json) days, k-means $(episode_days km1/metrics.json) days (truth ${truth_days} days)"
