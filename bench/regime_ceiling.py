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
  oracle+jump the oracle's squared distances decoded along time with a
              penalty per switch (the jump model of dsc kmeans
              --persistence), the penalty chosen for the truth's mean
              episode length and for 5 days: what persistence adds at best
  errors      how the oracle's wrong days lie in time: the mean length of
              their runs and the share of them inside runs of 2 days or
              more (a penalty per switch can mend isolated wrong days, not
              wrong stretches)

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


def decode(cost, lam):
    """Labels minimising sum cost[t, s_t] + lam * switches (one segment), by dynamic programming."""
    T, K = cost.shape
    v = cost[0].copy()
    back = np.zeros((T, K), dtype=int)
    for t in range(1, T):
        j = v.argmin()
        stay = v <= v[j] + lam
        back[t] = np.where(stay, np.arange(K), j)
        v = cost[t] + np.where(stay, v, v[j] + lam)
    s = np.empty(T, dtype=int)
    s[-1] = v.argmin()
    for t in range(T - 1, 0, -1):
        s[t - 1] = back[t, s[t]]
    return s


def true_runs(mask):
    """Lengths of the runs of True in mask."""
    out, n = [], 0
    for m in mask:
        if m:
            n += 1
        elif n:
            out.append(n)
            n = 0
    return out + ([n] if n else [])


def mean_episode(s):
    return len(s) / (1 + np.count_nonzero(s[1:] != s[:-1]))


def for_episode(cost, target):
    """The penalty whose decoding has the mean episode closest to target days (geometric bisection)."""
    lo, hi = 1e-6, float((cost.max(1) - cost.min(1)).sum())
    best = (abs(mean_episode(decode(cost, 0)) - target), 0.0)
    for _ in range(40):
        mid = (lo * hi) ** 0.5
        e = mean_episode(decode(cost, mid))
        best = min(best, (abs(e - target), mid))
        lo, hi = (mid, hi) if e < target else (lo, mid)
    return best[1]


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
    print(f"oracle      ARI {ari(y, nearest):.3f}  mean episode {mean_episode(nearest):.2f} days (truth {mean_episode(y):.2f})")
    cost = ((z[:, None, :] - means[None]) ** 2).sum(-1)
    for name, target in (("truth's", mean_episode(y)), ("5-day", 5.0)):
        s = decode(cost, for_episode(cost, target))
        print(f"oracle+jump ARI {ari(y, s):.3f}  ({name} episode length: mean episode {mean_episode(s):.2f} days)")
    wrong = true_runs(nearest != y)
    long_share = sum(n for n in wrong if n >= 2) / max(1, sum(wrong))
    print(f"errors      {sum(wrong)} wrong days in {len(wrong)} runs: mean run {np.mean(wrong):.2f} days, "
          f"{100 * long_share:.0f}% of them in runs of 2 days or more")
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
