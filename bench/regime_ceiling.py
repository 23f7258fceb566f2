"""regime_ceiling.py - how much of the planted regimes of a `dsc synth` data
set a day-by-day clustering can find at all, and how much k-means finds.

  python3 bench/regime_ceiling.py DIR [--k 7] [--seeds 3]

DIR holds dsc synth's era5_*.nc and truth.csv.  Every cell's harmonic
climatology (mean, trend, 3 annual harmonics) is removed by least squares
and every cell scaled to unit variance (as `--anomalies --scaling cell`);
cells missing on any day (the islands' SST) are left out.  Prints, as
adjusted Rand index against truth.csv:

  oracle      every day to the nearest of the true regime means: what a
              clustering of single days in this space reaches if it finds
              the planted centroids (the means are computed from truth.csv)
  from-truth  k-means started from the true regime means, with its
              inertia: a local optimum of the k-means objective near the
              planted partition
  kmeans      scikit-learn KMeans (k-means++, 10 restarts) per seed, with
              inertia: what k-means actually finds
  eof-10      the same on the first 10 principal components
  cosine      the same on every day's anomaly scaled to unit length
              (spherical k-means: a day's intensity no longer counts)

When k-means partitions far from the planted one (lower ARI) have about the
same inertia as from-truth, the k-means objective hardly tells the planted
regimes from other partitions of these days: more restarts do not help, a
different objective or representation is needed.
"""
import argparse
import glob
import os

import netCDF4
import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score as ari


def load(folder):
    blocks = []
    for path in sorted(glob.glob(os.path.join(folder, "era5_*.nc"))):
        with netCDF4.Dataset(path) as nc:
            names = [v for v in nc.variables if nc.variables[v].ndim == 3]
            blocks.append(np.stack([np.ma.filled(nc.variables[v][:].astype(float), np.nan) for v in names], -1))
    if not blocks:
        raise SystemExit(f"regime_ceiling.py: no era5_*.nc in {folder}")
    x = np.concatenate(blocks, 0)
    x = x.reshape(x.shape[0], -1)
    x = x[:, ~np.isnan(x).any(0)]
    y = np.loadtxt(os.path.join(folder, "truth.csv"), delimiter=",", skiprows=1, usecols=1, dtype=int)
    if len(y) != len(x):
        raise SystemExit(f"regime_ceiling.py: {len(y)} rows in truth.csv for {len(x)} days")
    return x, y


def anomalies(x):
    t = np.arange(len(x))
    ph = 2 * np.pi * t / 365.25
    basis = [np.ones(len(x)), t / len(x)] + [f(h * ph) for h in (1, 2, 3) for f in (np.cos, np.sin)]
    b = np.stack(basis, 1)
    a = x - b @ np.linalg.lstsq(b, x, rcond=None)[0]
    return a / a.std(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--k", type=int, default=7)
    p.add_argument("--seeds", type=int, default=3)
    a = p.parse_args()
    x, y = load(a.folder)
    z = anomalies(x)
    k = a.k
    means = np.stack([z[y == c].mean(0) for c in range(k)])
    nearest = ((z[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    print(f"{len(z)} days, {z.shape[1]} cells x variables, K = {k}")
    print(f"oracle      ARI {ari(y, nearest):.3f}")
    km = KMeans(k, init=means, n_init=1).fit(z)
    print(f"from-truth  ARI {ari(y, km.labels_):.3f}  inertia {km.inertia_:.6g}")
    unit = z / np.linalg.norm(z, axis=1, keepdims=True)
    for space, m in (("kmeans", z), ("eof-10", PCA(10, random_state=0).fit_transform(z)), ("cosine", unit)):
        runs = [KMeans(k, n_init=10, random_state=s).fit(m) for s in range(a.seeds)]
        r = np.array([ari(y, q.labels_) for q in runs])
        print(f"{space:<11s} ARI {r.mean():.3f} +- {r.std(ddof=1) if len(r) > 1 else 0:.3f}")
        if space == "kmeans":
            for s, q in enumerate(runs):
                print(f"  seed {s}    ARI {r[s]:.3f}  inertia {q.inertia_:.6g}")


if __name__ == "__main__":
    main()
