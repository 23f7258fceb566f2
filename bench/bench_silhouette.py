"""bench_silhouette.py - the scikit-learn side of bench/bench_silhouette.sh.

  bench_silhouette.py prepare DIR PREFIX   the dsc synth files of DIR as the
      normalised matrix (T x 41*41*7: missing -> variable mean, min-max per
      variable, no padding) in PREFIX.bin (int64 T, int64 D, float32 data) and
      the planted regimes of truth.csv in PREFIX.labels
  bench_silhouette.py sklearn PREFIX       times sklearn.metrics.silhouette_score
      on that matrix (float32, as users pass it) and prints
      seconds=, silhouette=, peak_memory_kb=
"""
import glob
import resource
import sys
import time

import numpy as np


def prepare(directory, prefix):
    import netCDF4
    names = ["sst", "sp", "sshf", "slhf", "t2m", "u10", "v10"]
    fields = []
    for path in sorted(glob.glob(directory + "/era5_*.nc")):
        with netCDF4.Dataset(path) as ds:
            present = [n for n in names if n in ds.variables]
            fields.append(np.stack([np.ma.filled(ds.variables[n][:].astype(np.float32), np.nan) for n in present], axis=1))
    x = np.concatenate(fields)  # (T, V, Y, X), files in time order
    t, v = x.shape[:2]
    for k in range(v):
        f = x[:, k]
        f[np.isnan(f)] = np.nanmean(f, dtype=np.float64)
        lo, hi = float(f.min()), float(f.max())
        x[:, k] = (f - lo) / (hi - lo) if hi > lo else 0
    with open(prefix + ".bin", "wb") as out:
        np.array([t, x[0].size], dtype=np.int64).tofile(out)
        x.reshape(t, -1).astype(np.float32).tofile(out)
    labels = [int(line.split(",")[1]) for line in open(directory + "/truth.csv") if line[:1].isdigit()]
    assert len(labels) == t, f"{len(labels)} labels for {t} days"
    np.savetxt(prefix + ".labels", labels, fmt="%d")


def run_sklearn(prefix):
    from sklearn.metrics import silhouette_score
    with open(prefix + ".bin", "rb") as f:
        t, d = np.fromfile(f, dtype=np.int64, count=2)
        x = np.fromfile(f, dtype=np.float32, count=t * d).reshape(t, d)
    labels = np.loadtxt(prefix + ".labels", dtype=np.int64)
    start = time.perf_counter()
    s = silhouette_score(x, labels)
    seconds = time.perf_counter() - start
    print(f"seconds={seconds:.2f}\nsilhouette={s:.10f}\npeak_memory_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    else:
        run_sklearn(sys.argv[2])
