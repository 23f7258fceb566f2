#!/bin/sh
# kmeans.sh - distributed k-means (tests/kmeans_driver) against scikit-learn
# (tests/kmeans_sklearn.py) on 1, 2 and 3 ranks: Lloyd's iterations from the
# same initial centroids give the same labels and centroids within 1e-5
# (also when an empty cluster is re-seeded); k-means++ with n_init 10 finds
# an inertia at most scikit-learn's; K > T is a clear error.
. ./tests/testenv.sh

"$PYTHON" -c 'import sklearn, numpy' 2>/dev/null || skip_all "scikit-learn is not available to $PYTHON"
REF="$top_srcdir/tests/kmeans_sklearn.py"
DRIVER="$top_builddir/tests/kmeans_driver"
# check and expect_error run their command under timeout: spell the launcher out
launcher() { echo "$TESTMPIRUN" | sed "s/NP/$1/"; }

# Runs that converge (tol 1e-4: no label changes), that stop on the centroid
# shift (tol 1e-2 times the mean feature variance) and that are cut after
# 2 iterations (labels from the final assignment to the last centroids).
for name in lloyd far; do
  "$PYTHON" "$REF" make $name "$WORK" > "$WORK/log" 2>&1 || fail "$name: data set generated"
done
for run in "lloyd 1e-4 300" "lloyd 1e-2 300" "lloyd 1e-4 2" "far 1e-4 300" "far 1e-4 2"; do
  set -- $run
  name=$1 tol=$2 iters=$3 case=$1.$2.$3
  if ! "$PYTHON" "$REF" from "$WORK/$name.bin" "$WORK/$name.init" $tol $iters "$WORK/$case.ref.npz" > "$WORK/log" 2>&1; then
    fail "$name, tol $tol, max_iter $iters: scikit-learn reference"; continue
  fi
  # every case on 1 rank; the rank-count independence on two of them
  nps="1"
  case $case in lloyd.1e-4.300|far.1e-4.2) nps="1 2 3" ;; esac
  for np in $nps; do
    check "$name, tol $tol, max_iter $iters: Lloyd from the same centroids on $np rank(s): scikit-learn's labels and iterations, centroids within 1e-5" sh -c \
      "$(launcher $np) $DRIVER '$WORK/$name.bin' 6 '$WORK/$case.$np' --init-file '$WORK/$name.init' --tol $tol --max-iter $iters \
       > '$WORK/$case.$np.txt' && '$PYTHON' '$REF' compare-from '$WORK/$case.ref.npz' '$WORK/$case.$np'"
    sed -n 's/^labels/# &/p' "$WORK/log"
  done
done

if "$PYTHON" "$REF" make regimes "$WORK" > "$WORK/log" 2>&1 \
   && "$PYTHON" "$REF" fit "$WORK/regimes.bin" 5 "$WORK/regimes.ref.npz" > "$WORK/log" 2>&1; then
  for np in 1 3; do
    check "regimes: k-means++ n_init 10 on $np rank(s): inertia at most scikit-learn's (n_init 10) x (1 + 1e-6)" sh -c \
      "$(launcher $np) $DRIVER '$WORK/regimes.bin' 5 '$WORK/regimes.$np' --n-init 10 --seed 3 > '$WORK/regimes.$np.txt' \
       && '$PYTHON' '$REF' compare-fit '$WORK/regimes.ref.npz' '$WORK/regimes.$np'"
    sed -n 's/^inertia/# &/p' "$WORK/log"
  done
else
  fail "regimes: scikit-learn reference"
fi

# shellcheck disable=SC2046
expect_error "K larger than the number of rows is rejected on 2 ranks" "K = 501 clusters but only 500 rows" \
  $(launcher 2) $DRIVER "$WORK/lloyd.bin" 501 "$WORK/big"
tap_done
