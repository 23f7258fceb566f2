"""Reference k-means from scikit-learn for tests/kmeans.sh.

  kmeans_sklearn.py make NAME DIR
        writes DIR/NAME.bin (int64 T, int64 D, T*D float32) and, for the
        Lloyd comparisons, DIR/NAME.init (int64 K, int64 D, K*D float64)
  kmeans_sklearn.py from DATA INIT TOL MAX_ITER REF.npz
        KMeans(init=INIT, n_init=1, algorithm='lloyd', tol=TOL) on DATA
  kmeans_sklearn.py compare-from REF.npz OUT
        exits 1 unless OUT.labels are the reference labels, OUT.centroids
        are within 1e-5 of the reference centroids (relative to the largest
        centroid value, at least 1), the inertia (from the driver's stdout,
        OUT.txt) within 1e-6 relative and the iteration count the same
  kmeans_sklearn.py fit DATA K REF.npz
        KMeans(n_clusters=K, init='k-means++', n_init=10) inertia
  kmeans_sklearn.py compare-fit REF.npz OUT
        exits 1 unless the driver's inertia <= scikit-learn's * (1 + 1e-6)

scikit-learn runs in float64 on the float32 matrix promoted to float64, the
exact values the C code (double sums over float32 rows) reproduces.  The
data sets:
  lloyd   500 x 20, 6 strongly overlapping Gaussian blobs (about 20
          iterations), init = 6 random rows
  far     the lloyd matrix, init = 5 random rows and one centroid far from
          every row (an empty cluster is re-seeded in the first iteration)
  regimes 600 x 10, 5 real clusters of different sizes and spreads
"""
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs


def write_matrix(path, x, dtype):
    x = np.ascontiguousarray(x, dtype=dtype)
    with open(path, "wb") as f:
        np.array(x.shape, dtype=np.int64).tofile(f)
        x.tofile(f)


def read_matrix(path, dtype):
    with open(path, "rb") as f:
        t, d = np.fromfile(f, dtype=np.int64, count=2)
        x = np.fromfile(f, dtype=dtype, count=t * d)
    if x.size != t * d:
        raise ValueError(f"{path}: {x.size} values, expected {t} x {d}")
    return x.reshape(t, d)


def make(name, out):
    rng = np.random.default_rng(11)
    if name in ("lloyd", "far"):
        x, _ = make_blobs(n_samples=500, n_features=20, centers=6, cluster_std=8.0, center_box=(-8, 8), random_state=3)
        x = x.astype(np.float32)
        init = x[rng.choice(500, 6, replace=False)].astype(np.float64)
        if name == "far":
            init[5] = 200.0
        write_matrix(f"{out}/{name}.init", init, np.float64)
    elif name == "regimes":
        x, _ = make_blobs(n_samples=[220, 150, 120, 70, 40], n_features=10, cluster_std=[1.0, 1.5, 0.8, 2.0, 1.2],
                          random_state=4)
        x = x.astype(np.float32)
    else:
        raise ValueError(f"unknown data set {name}")
    write_matrix(f"{out}/{name}.bin", x, np.float32)


def read_driver(out):
    values = {}
    with open(f"{out}.txt") as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            if value:
                values[key] = float(value)
    return values


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "make":
        make(sys.argv[2], sys.argv[3])
    elif cmd == "from":
        x = read_matrix(sys.argv[2], np.float32).astype(np.float64)
        init = read_matrix(sys.argv[3], np.float64)
        km = KMeans(n_clusters=init.shape[0], init=init, n_init=1, algorithm="lloyd", tol=float(sys.argv[4]),
                    max_iter=int(sys.argv[5])).fit(x)
        np.savez(sys.argv[6], labels=km.labels_, centroids=km.cluster_centers_, inertia=km.inertia_, n_iter=km.n_iter_)
    elif cmd == "compare-from":
        ref = np.load(sys.argv[2])
        out = sys.argv[3]
        labels = np.loadtxt(f"{out}.labels", dtype=np.int64, ndmin=1)
        centroids = read_matrix(f"{out}.centroids", np.float64)
        got = read_driver(out)
        nlab = int(np.sum(labels != ref["labels"])) if labels.shape == ref["labels"].shape else -1
        cdiff = np.abs(centroids - ref["centroids"]).max() / max(1.0, np.abs(ref["centroids"]).max())
        irel = abs(got["inertia"] - ref["inertia"]) / ref["inertia"]
        print(f"labels differing: {nlab}; centroid difference {cdiff:.2e}; inertia difference {irel:.2e}; "
              f"iterations {int(got['iterations'])} (scikit-learn {int(ref['n_iter'])})")
        same_iter = int(got["iterations"]) == int(ref["n_iter"])
        sys.exit(0 if nlab == 0 and cdiff <= 1e-5 and irel <= 1e-6 and same_iter else 1)
    elif cmd == "fit":
        x = read_matrix(sys.argv[2], np.float32).astype(np.float64)
        km = KMeans(n_clusters=int(sys.argv[3]), init="k-means++", n_init=10, random_state=0).fit(x)
        np.savez(sys.argv[4], inertia=km.inertia_)
    elif cmd == "compare-fit":
        ref = float(np.load(sys.argv[2])["inertia"])
        got = read_driver(sys.argv[3])["inertia"]
        print(f"inertia {got:.10g}, scikit-learn {ref:.10g}, ratio {got / ref:.8f}")
        sys.exit(0 if got <= ref * (1 + 1e-6) else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
