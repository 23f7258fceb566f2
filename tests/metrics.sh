#!/bin/sh
# metrics.sh - every clustering metric of the distributed code against
# scikit-learn / numpy (tests/metrics_sklearn.py) to 1e-5 relative, on 1, 2
# and 3 ranks, on blobs, a singleton cluster, duplicated points, KMeans
# labels, a large-D matrix where float32 dot products would cancel, two
# clusters with the same centroid (Davies-Bouldin leaves the pair out), and
# nearly parallel rows (1 - cos ~ 1e-10) for the cosine silhouette.
. ./tests/testenv.sh

"$PYTHON" -c 'import sklearn, numpy' 2>/dev/null || skip_all "scikit-learn is not available to $PYTHON"
REF="$top_srcdir/tests/metrics_sklearn.py"
DRIVER=./tests/test_metrics
# expect_error runs a command under timeout, so the launcher is spelled out
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }

for name in blobs singleton duplicates kmeans large coincide parallel; do
  if ! "$PYTHON" "$REF" make $name "$WORK" > "$WORK/log" 2>&1; then
    fail "$name: data set generated"; continue
  fi
  truth=""
  [ -f "$WORK/$name.truth" ] && truth="$WORK/$name.truth"
  "$PYTHON" "$REF" reference "$WORK/$name.bin" "$WORK/$name.labels" $truth > "$WORK/$name.ref" 2> "$WORK/log" \
    || { fail "$name: scikit-learn reference"; continue; }
  for np in 1 2 3; do
    check "$name: $np rank(s) agree with scikit-learn to 1e-5" sh -c \
      "$(launcher $np) $DRIVER '$WORK/$name.bin' '$WORK/$name.labels' $truth > '$WORK/$name.$np.out' \
       && '$PYTHON' '$REF' compare '$WORK/$name.ref' '$WORK/$name.$np.out'"
  done
done

# 4 ranks: ring steps at distance 1 and the shared step at distance 2.
check "kmeans: 4 ranks agree with scikit-learn" sh -c \
  "$(launcher 4) $DRIVER '$WORK/kmeans.bin' '$WORK/kmeans.labels' '$WORK/kmeans.truth' > '$WORK/k4.out' \
   && '$PYTHON' '$REF' compare '$WORK/kmeans.ref' '$WORK/k4.out'"

# Small tiles: many tile pairs per block, ring steps with several tiles.
check "blobs: tile 32 on 3 ranks agrees with scikit-learn" sh -c \
  "$(launcher 3) $DRIVER '$WORK/blobs.bin' '$WORK/blobs.labels' '$WORK/blobs.truth' --tile 32 > '$WORK/t.out' \
   && '$PYTHON' '$REF' compare '$WORK/blobs.ref' '$WORK/t.out'"

# OpenMP threads over the tiles (per-thread sums), small tiles.
check "blobs: 2 ranks x 2 OpenMP threads, tile 64, agree with scikit-learn" sh -c \
  "OMP_NUM_THREADS=2 $(launcher 2) -x OMP_NUM_THREADS $DRIVER '$WORK/blobs.bin' '$WORK/blobs.labels' '$WORK/blobs.truth' --tile 64 > '$WORK/t2.out' \
   && '$PYTHON' '$REF' compare '$WORK/blobs.ref' '$WORK/t2.out'"

# Sampled silhouette: the same random subset as scikit-learn on X[subset].
check "scikit-learn reference of the sampled silhouette" sh -c \
  "'$PYTHON' '$REF' reference '$WORK/kmeans.bin' '$WORK/kmeans.labels' --sample 150 --seed 1 > '$WORK/sample.ref'"
for np in 1 2; do
  check "sampled silhouette (150 of 400) on $np rank(s) agrees with scikit-learn on the subset" sh -c \
    "$(launcher $np) $DRIVER '$WORK/kmeans.bin' '$WORK/kmeans.labels' --sample 150 > '$WORK/s.out' \
     && '$PYTHON' '$REF' compare '$WORK/sample.ref' '$WORK/s.out'"
done

# One distinct label: a clear error on every rank count, no hang.
awk '{print 5}' "$WORK/kmeans.labels" > "$WORK/one.labels"
expect_error "a single distinct label is rejected" "2 <= number of clusters" $(launcher 2) $DRIVER "$WORK/kmeans.bin" "$WORK/one.labels"
tap_done
