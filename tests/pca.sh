#!/bin/sh
# pca.sh - dsc kmeans --pca (EOF truncation, src/cluster/pca.c) against
# scikit-learn's PCA (tests/baselines_sklearn.py) on the numpy twin of the
# normalised matrix of dsc synth data (1 year, 12 x 10 grid): explained
# variance ratio to 1e-5, EOF maps and principal components up to sign,
# labels and centroids of k-means on the components, at 1, 2 and 3 ranks;
# the same with --anomalies (numpy twin of the harmonic climatology) at 1
# and 3 ranks, with identical labels; k-means --cosine (centred rows scaled
# to unit length) at 1 and 3 ranks; tests/test_pca
# on 3 ranks; a component count out of range is one clear error and leaves
# no output.
. ./tests/testenv.sh

"$PYTHON" -c 'import sklearn, netCDF4' 2>/dev/null || skip_all "scikit-learn or netCDF4 is not available to $PYTHON"
REF="$top_srcdir/tests/baselines_sklearn.py"
TWIN="$top_srcdir/tests/metrics_sklearn.py"
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }
D="$WORK/data"

check "dsc synth writes 1 year on a small grid" "$DSC" synth -q -o "$D" --years 2001 --grid 12x10
check "numpy twin of the normalised matrix" "$PYTHON" "$TWIN" netcdf "$WORK/x" "$D"/era5_2001.nc
check "scikit-learn PCA, 5 components" "$PYTHON" "$REF" pca-ref "$WORK/x" 5 "$WORK/pca5.npz"

for np in 1 2 3; do
  check "kmeans --pca 5 on $np rank(s): eofs.nc, pcs.nc, metrics.json, labels and centroids agree with scikit-learn PCA + KMeans" sh -c \
    "$(launcher $np) '$DSC' kmeans -q -k 4 --pca 5 -o '$WORK/k$np' '$D/era5_2001.nc' \
     && '$PYTHON' '$REF' pca-compare '$WORK/pca5.npz' '$WORK/x' '$WORK/k$np' '$D/era5_2001.nc'"
  sed -n 's/^ok: eofs.nc: explained/# &/p; s/^ok: EOF/# &/p' "$WORK/log"
done

# --anomalies: the matrix from the numpy twin of the harmonic climatology
check "numpy twin of the --anomalies matrix" "$PYTHON" "$REF" anomaly-twin "$WORK/ax" "$D/era5_2001.nc"
check "scikit-learn PCA of the anomalies, 4 components" "$PYTHON" "$REF" pca-ref "$WORK/ax" 4 "$WORK/apca4.npz"
for np in 1 3; do
  check "kmeans --anomalies --pca 4 on $np rank(s): agrees with scikit-learn PCA + KMeans on the anomalies" sh -c \
    "$(launcher $np) '$DSC' kmeans -q -k 4 --anomalies --pca 4 -o '$WORK/a$np' '$D/era5_2001.nc' \
     && '$PYTHON' '$REF' pca-compare '$WORK/apca4.npz' '$WORK/ax' '$WORK/a$np' '$D/era5_2001.nc'"
done
check "--anomalies --pca 4: the same labels on 1 and 3 ranks" cmp "$WORK/a1/labels.csv" "$WORK/a3/labels.csv"
for np in 1 3; do
  check "kmeans --anomalies --cosine on $np rank(s): scikit-learn KMeans on the centred unit-length rows keeps its labels, centroids and inertia" sh -c \
    "$(launcher $np) '$DSC' kmeans -q -k 4 --anomalies --cosine -o '$WORK/c$np' '$D/era5_2001.nc' \
     && '$PYTHON' '$REF' cosine-compare '$WORK/ax' '$WORK/c$np'"
done
check "--anomalies --cosine: the same labels on 1 and 3 ranks" cmp "$WORK/c1/labels.csv" "$WORK/c3/labels.csv"

check "tests/test_pca on 3 ranks ran" $(launcher 3) "$top_builddir/tests/test_pca"
if grep -q '^not ok' "$WORK/log" || ! grep -q '^1\.\.[1-9]' "$WORK/log"; then
  fail "tests/test_pca on 3 ranks: $(grep -c '^not ok' "$WORK/log") failed"
else
  pass "tests/test_pca on 3 ranks: $(grep -c '^ok' "$WORK/log") passed"
fi

# shellcheck disable=SC2046
expect_error "--pca larger than time steps - 1 and features is refused on 2 ranks" "--pca 900 components for 365 time steps x 840 features; choose at most 364" \
  $(launcher 2) "$DSC" kmeans -k 4 --pca 900 -o "$WORK/big" "$D/era5_2001.nc"
check "no output files after the error" sh -c "test ! -e '$WORK/big/metrics.json' && test ! -e '$WORK/big/eofs.nc' && test ! -e '$WORK/big/labels.csv'"
tap_done
