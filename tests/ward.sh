#!/bin/sh
# ward.sh - dsc ward (src/cluster/ward.c) against scikit-learn's
# AgglomerativeClustering(linkage="ward") (tests/baselines_sklearn.py) on
# the numpy twin of the normalised matrix of dsc synth data (2 years,
# 12 x 10 grid; the reference checks that the merge heights are tie-free):
# ARI 1 on the full matrix at 1, 2 and 3 ranks and on its 6 leading
# principal components (--pca 6) at 2 ranks, centroids.nc = the
# cluster means; the memory limit refuses too many time steps with one
# clear error and no output; the help states the limit.
. ./tests/testenv.sh

"$PYTHON" -c 'import sklearn, scipy, netCDF4' 2>/dev/null || skip_all "scikit-learn, scipy or netCDF4 is not available to $PYTHON"
REF="$top_srcdir/tests/baselines_sklearn.py"
TWIN="$top_srcdir/tests/metrics_sklearn.py"
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
D="$WORK/data"

check "dsc synth writes 1 year on a small grid" "$DSC" synth -q -o "$D" --years 2001 --grid 12x10
check "numpy twin of the normalised matrix" "$PYTHON" "$TWIN" netcdf "$WORK/x" "$D"/era5_2001.nc
check "scikit-learn Ward labels, K = 5, tie-free data" "$PYTHON" "$REF" ward-ref "$WORK/x" 5 "$WORK/ward.ref"
sed -n 's/^smallest/# &/p' "$WORK/log"
check "scikit-learn Ward labels on 6 principal components, K = 5, tie-free" "$PYTHON" "$REF" ward-ref "$WORK/x" 5 "$WORK/wardp.ref" 6
sed -n 's/^smallest/# &/p' "$WORK/log"

for np in 1 2 3; do
  check "ward -k 5 on $np rank(s): ARI 1 against scikit-learn, centroids = cluster means" sh -c \
    "$(launcher $np) '$DSC' ward -q -k 5 --truth '$D/truth.csv' -o '$WORK/w$np' '$D/era5_2001.nc' \
     && '$PYTHON' '$REF' ward-compare '$WORK/ward.ref' '$WORK/x' '$WORK/w$np' \
     && grep -q '\"command\": \"ward\"' '$WORK/w$np/metrics.json' && grep -q '\"ari\"' '$WORK/w$np/metrics.json' \
     && test -s '$WORK/w$np/composites.nc' && test -s '$WORK/w$np/labels.nc'"
done
for np in 2; do
  check "ward -k 5 --pca 6 on $np rank(s): ARI 1 against scikit-learn PCA + AgglomerativeClustering" sh -c \
    "$(launcher $np) '$DSC' ward -q -k 5 --pca 6 -o '$WORK/p$np' '$D/era5_2001.nc' \
     && '$PYTHON' '$REF' ward-compare '$WORK/wardp.ref' '$WORK/x' '$WORK/p$np' && test -s '$WORK/p$np/eofs.nc'"
done

# 365 time steps need 365 * 364 / 2 * 8 bytes = 0.51 MiB; 0.25 MiB hold 256
# shellcheck disable=SC2046
expect_error "--max-memory 0.25: 365 time steps refused on 2 ranks" \
  "365 time steps need 0.5 MiB for the distance matrix on rank 0 .* --max-memory 0.25 MiB \(at most 256 time steps\)" \
  $(launcher 2) "$DSC" ward -k 5 --max-memory 0.25 -o "$WORK/big" "$D/era5_2001.nc"
check "no output files after the error" sh -c "test ! -e '$WORK/big/metrics.json' && test ! -e '$WORK/big/labels.csv'"
check "--help states the size limit" sh -c "'$DSC' ward --help | grep -q 'T (T - 1) / 2 x 8 bytes: 4096 MiB hold 32768 time steps'"
tap_done
