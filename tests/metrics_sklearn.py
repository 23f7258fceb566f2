"""Reference values of the clustering metrics from scikit-learn and numpy.

  metrics_sklearn.py make NAME DIR     writes DIR/NAME.bin (int64 T, int64 D,
                                       T*D float32), DIR/NAME.labels,
                                       DIR/NAME.truth (one integer per line)
  metrics_sklearn.py reference BIN LABELS [TRUTH] [--sample N --seed S]
                                       prints key=value reference metrics
  metrics_sklearn.py compare REF GOT   exits 1 unless every key of REF is in
                                       GOT within 1e-5 relative (GOT: key=value
                                       lines or the metrics.json of dsc eval),
                                       and when REF is empty or lacks a
                                       silhouette or inter-cluster key

For dsc eval (tests/eval.sh), the same matrix from the netCDF files:
  metrics_sklearn.py netcdf PREFIX FILES...   PREFIX.bin (T, V*Y*X), the
                                       matrix of the input-space metrics
                                       (normalised as preprocess.h: missing
                                       -> variable mean, min-max per
                                       variable; the grid's real cells),
                                       PREFIX.padded.bin (T, V*H*W) the
                                       network's input (zero padding to
                                       multiples of 16) and PREFIX.times
                                       (ISO 8601, one per line)
  metrics_sklearn.py kmeans PREFIX K CSV      KMeans labels as time,label CSV
  metrics_sklearn.py reference-csv PREFIX LABELS.csv [TRUTH.csv]
  metrics_sklearn.py latent PREFIX CHECKPOINT OUT   OUT.bin: the PyTorch
                                       twin's latent features of
                                       PREFIX.padded.bin
  metrics_sklearn.py latent-check PREFIX CHECKPOINT LATENT.nc OUT
                                       dsc's saved latents against the twin
                                       (float32 and float64), then written
                                       to OUT.bin / OUT.times

The reference is computed in float64 on the float32 matrix, so it is the
exact value the distributed code must reproduce.
"""
import os
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import (adjusted_rand_score, davies_bouldin_score, normalized_mutual_info_score,
                             pairwise_distances, silhouette_score)

RTOL = 1e-5
ATOL = 1e-9


def write_bin(path, x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    with open(path, "wb") as f:
        np.array(x.shape, dtype=np.int64).tofile(f)
        x.tofile(f)


def read_bin(path):
    with open(path, "rb") as f:
        t, d = np.fromfile(f, dtype=np.int64, count=2)
        return np.fromfile(f, dtype=np.float32, count=t * d).reshape(t, d)


def make(name, out):
    rng = np.random.default_rng(7)
    truth = None
    if name == "blobs":
        x, labels = make_blobs(n_samples=500, n_features=300, centers=5, random_state=1)
        truth = labels.copy()
        flip = rng.choice(500, 60, replace=False)
        truth[flip] = rng.integers(0, 5, 60)
        labels = labels * 3 + 10          # arbitrary label values
    elif name == "singleton":
        x, labels = make_blobs(n_samples=200, n_features=50, centers=4, random_state=2)
        x = np.vstack([x, np.full((1, 50), 40.0)])
        labels = np.append(labels, 4)
        truth = np.append(labels[:-1], 0)
    elif name == "duplicates":
        base, _ = make_blobs(n_samples=50, n_features=40, centers=3, random_state=3)
        base[:2] = 0                      # zero rows: cosine distance 1, even to themselves
        x = np.repeat(base, 3, axis=0)
        labels = KMeans(n_clusters=3, n_init=3, random_state=0).fit_predict(x)
        labels[::7] = (labels[::7] + 1) % 3   # duplicates split over clusters
    elif name == "kmeans":
        x = rng.random((400, 100))
        labels = KMeans(n_clusters=6, n_init=3, random_state=0).fit_predict(x)
        truth = rng.integers(0, 4, 400)
    elif name == "large":
        # normalised-field-like: values in [0, 1] around 0.5, weak clusters,
        # D large enough that float32 dot products would cancel
        centres = 0.5 + 0.05 * rng.standard_normal((7, 1000))
        which = rng.integers(0, 7, 2000)
        x = np.clip(centres[which] + 0.1 * rng.standard_normal((2000, 1000)), 0, 1)
        labels = KMeans(n_clusters=7, n_init=2, random_state=0).fit_predict(x)
        truth = which
    elif name == "coincide":
        # clusters 0 and 1 around the same point (exact centroids, M = 0):
        # scikit-learn leaves the pair out of Davies-Bouldin's maximum
        c = np.round(10 * rng.random(20))
        offsets = []
        for f, step in ((0, 2.0), (1, 2.0), (2, 1.0), (3, 3.0)):
            for sign in (1, -1):
                e = np.zeros(20)
                e[f] = sign * step
                offsets.append(e)
        far = c + 20 + np.round(4 * rng.standard_normal((10, 20)))
        x = np.vstack([c + np.array(offsets), far])
        labels = np.array([0] * 4 + [1] * 4 + [2] * 10)
    elif name == "parallel":
        # nearly parallel rows: one direction plus clusters and noise of
        # 1e-5, so 1 - cos is ~1e-10 and the cosine silhouette is right only
        # when the dot products and the norms are those of the same rows
        # (norms of other roundings of the rows: 3e-5 to 6e-5 off)
        direction = 0.5 + 0.5 * rng.random(200)
        centres = direction + 1e-5 * rng.standard_normal((3, 200))
        which = rng.integers(0, 3, 300)
        x = centres[which] + 1e-5 * rng.standard_normal((300, 200))
        labels = which
    else:
        sys.exit("unknown data set " + name)
    write_bin(f"{out}/{name}.bin", x)
    np.savetxt(f"{out}/{name}.labels", labels, fmt="%d")
    if truth is not None:
        np.savetxt(f"{out}/{name}.truth", truth, fmt="%d")


def splitmix_subset(t, m, seed):
    """The subset of dsc's sampled silhouette (partial Fisher-Yates, splitmix64)."""
    mask = (1 << 64) - 1
    s = seed
    perm = list(range(t))
    for i in range(m):
        s = (s + 0x9E3779B97F4A7C15) & mask
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        j = i + z % (t - i)
        perm[i], perm[j] = perm[j], perm[i]
    return np.sort(np.array(perm[:m]))


def reference(x, labels, truth=None, sample=0, seed=1):
    x = x.astype(np.float64)
    _, y = np.unique(labels, return_inverse=True)
    t, k = len(y), y.max() + 1
    r = {}
    xs, ys = x, y
    if sample:
        idx = splitmix_subset(t, sample, seed)
        xs, ys = x[idx], y[idx]
    r["silhouette"] = silhouette_score(xs, ys)
    r["silhouette_cosine"] = silhouette_score(xs, ys, metric="cosine")
    dist = pairwise_distances(xs)
    ks = np.unique(ys)
    inter = np.zeros((len(ks), len(ks)))
    for a, ka in enumerate(ks):
        for b, kb in enumerate(ks):
            block = dist[np.ix_(ys == ka, ys == kb)]
            inter[a, b] = block.max() if a == b else block.min()
    r["avg_inter_cluster_distance"] = inter.mean()
    if not sample:
        r["inter"] = inter.ravel()
        r["davies_bouldin"] = davies_bouldin_score(x, y)
        sse = sum(((x[y == c] - x[y == c].mean(axis=0)) ** 2).sum() for c in range(k))
        r["rmse_mean"] = np.sqrt(sse / t)
        r["avg_variance"] = sum((y == c).sum() * np.var(x[y == c]) for c in range(k)) / t
        r["cluster_sizes"] = np.bincount(y)
        if truth is not None:
            r["ari"] = adjusted_rand_score(truth, labels)
            r["nmi"] = normalized_mutual_info_score(truth, labels)
    return r


def format_value(v):
    if np.ndim(v):
        return ",".join(repr(float(e)) if np.issubdtype(np.asarray(v).dtype, np.floating) else str(int(e)) for e in v)
    return repr(float(v))


def parse(path):
    out = {}
    if path.endswith(".json"):
        import json
        with open(path) as f:
            data = json.load(f)
        for key, value in data.items():
            if key == "inter_cluster_distance":
                out["inter"] = np.array(value, dtype=float).ravel()
            elif isinstance(value, (int, float, list)) and not isinstance(value, bool):
                out[key] = np.array(value, dtype=float).ravel()
        return out
    for line in open(path):
        if "=" in line:
            key, value = line.strip().split("=", 1)
            out[key] = np.array([float(e) for e in value.split(",")])
    return out


# Keys every reference has (sampled or not): a reference without them is
# broken, never a pass.
REQUIRED = ("silhouette", "silhouette_cosine", "avg_inter_cluster_distance")


def compare(ref_path, got_path, rtol=RTOL):
    ref, got = parse(ref_path), parse(got_path)
    bad = 0
    if not ref:
        print(f"# {ref_path}: empty reference")
        return 1
    for key in REQUIRED:
        if key not in ref:
            print(f"# {key}: missing from the reference {ref_path}")
            bad += 1
    for key, want in ref.items():
        if not np.all(np.isfinite(want)):
            print(f"# {key}: not finite in the reference {ref_path}")
            bad += 1
    for key, want in ref.items():
        have = got.get(key)
        if have is None or have.shape != want.shape:
            print(f"# {key}: missing or wrong length in {got_path}")
            bad += 1
            continue
        err = np.abs(have - want)
        ok = np.all(err <= rtol * np.abs(want) + ATOL)
        rel = np.max(err / np.maximum(np.abs(want), 1e-300))
        print(f"# {key}: {'ok' if ok else 'MISMATCH'} max relative difference {rel:.2e}"
              + ("" if ok else f" (want {format_value(want)[:200]}, got {format_value(have)[:200]})"))
        bad += not ok
    return 1 if bad else 0


def netcdf_matrix(prefix, files):
    import datetime
    import netCDF4
    names = ["sst", "sp", "sshf", "slhf", "t2m", "u10", "v10"]
    fields, hours = [], []
    for path in files:
        with netCDF4.Dataset(path) as ds:
            tvar = ds.variables["time"]
            dates = netCDF4.num2date(tvar[:], tvar.units, calendar=getattr(tvar, "calendar", "standard"),
                                     only_use_cftime_datetimes=True)
            epoch = datetime.datetime(1900, 1, 1)
            hours += [(datetime.datetime(d.year, d.month, d.day, d.hour) - epoch).total_seconds() / 3600 for d in dates]
            present = [n for n in names if n in ds.variables]
            fields.append(np.stack([np.ma.filled(ds.variables[n][:].astype(np.float64), np.nan) for n in present], axis=1))
    x = np.concatenate(fields)                       # (T, V, Y, X)
    order = np.argsort(hours)
    x, hours = x[order], np.array(hours)[order]
    t, v, ny, nx = x.shape
    fill = np.array([np.nanmean(x[:, k]) for k in range(v)])
    p = np.where(np.isnan(x), fill[None, :, None, None], x).astype(np.float32).astype(np.float64)
    lo, hi = p.min(axis=(0, 2, 3), keepdims=True), p.max(axis=(0, 2, 3), keepdims=True)
    rng = hi - lo
    scaled = np.where(rng > 0, (p - lo) / np.where(rng > 0, rng, 1), 0.0)
    write_bin(prefix + ".bin", scaled.astype(np.float32).reshape(t, -1))
    h, w = (ny + 15) // 16 * 16, (nx + 15) // 16 * 16
    out = np.zeros((t, v, h, w), dtype=np.float32)
    out[:, :, :ny, :nx] = scaled
    write_bin(prefix + ".padded.bin", out.reshape(t, -1))
    with open(prefix + ".times", "w") as f:
        for hr in hours:
            f.write((datetime.datetime(1900, 1, 1) + datetime.timedelta(hours=float(hr))).strftime("%Y-%m-%dT%H:%M:%S") + "\n")


def read_csv_labels(path, times):
    table = {}
    for line in open(path):
        parts = line.strip().split(",")
        if len(parts) == 2 and parts[0][:1].isdigit():
            table[parts[0]] = int(parts[1])
    return np.array([table[t] for t in times])


def twin_encode(ckpt, x, dtype):
    """Latent features of x (T, V*H*W) by the PyTorch twin in dtype."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
    import torch
    import torch_twin
    twin, _, _ = torch_twin.from_checkpoint(ckpt)
    twin.eval()
    c = twin.cfg
    xt = torch.from_numpy(x.reshape(x.shape[0], 1, c["vars"], c["height"], c["width"]))
    if dtype == "float64":
        twin, xt = twin.double(), xt.double()
    with torch.no_grad():
        return twin.encode(xt).numpy().astype(np.float64)


def latent_check(prefix, ckpt, latent_nc, out):
    """dsc's float32 encoder must be as accurate as PyTorch's float32 twin:
    against the twin in float64 (the exact value up to 1e-16), dsc's largest
    error may be at most 4 times PyTorch's own float32 error, or 4 float32
    eps times max|z|, whichever is larger.  A tolerance of a few ulp alone
    would not do: the conv stack of an untrained model maps every sample to
    nearly the same features, so the float32 rounding of any implementation
    (it depends on the summation order of the BLAS and oneDNN kernels, hence
    on the CPU) is amplified in the sample-to-sample differences the latents
    are made of.  The time coordinate must be PREFIX.times."""
    import netCDF4
    x = read_bin(prefix + ".padded.bin")
    with netCDF4.Dataset(latent_nc) as ds:
        z = np.asarray(ds.variables["z"][:], dtype=np.float64)
        t = ds.variables["time"]
        dates = netCDF4.num2date(t[:], t.units, calendar=t.calendar, only_use_cftime_datetimes=False)
        times = [d.strftime("%Y-%m-%dT%H:%M:%S") for d in dates]
    want_times = open(prefix + ".times").read().split()
    bad = 0
    if times != want_times:
        print(f"# {latent_nc}: time coordinate differs from {prefix}.times")
        bad += 1
    z32, z64 = twin_encode(ckpt, x, "float32"), twin_encode(ckpt, x, "float64")
    if z.shape != z64.shape:
        print(f"# {latent_nc}: z is {z.shape}, the twin gives {z64.shape}")
        return 1
    err_dsc, err_torch = np.max(np.abs(z - z64)), np.max(np.abs(z32 - z64))
    tol = max(4 * np.finfo(np.float32).eps * np.max(np.abs(z64)), 4 * err_torch)
    spread = np.max(z64, axis=0) - np.min(z64, axis=0)
    print(f"# latents in [{z64.min():.3f}, {z64.max():.3f}], smallest spread of a latent {spread.min():.3f}")
    print(f"# max |dsc - float64 twin| {err_dsc:.3g}, max |float32 twin - float64 twin| {err_torch:.3g}, tolerance {tol:.3g}")
    if not err_dsc <= tol:
        print("# MISMATCH: dsc's latents are less accurate than the float32 twin's")
        bad += 1
    write_bin(out + ".bin", z.astype(np.float32))
    with open(out + ".times", "w") as f:
        f.write("\n".join(times) + "\n")
    return 1 if bad else 0


def main():
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], sys.argv[3])
    elif cmd == "reference":
        args = sys.argv[2:]
        sample = int(args[args.index("--sample") + 1]) if "--sample" in args else 0
        seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
        files = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or not args[i - 1].startswith("--"))]
        x = read_bin(files[0])
        labels = np.loadtxt(files[1], dtype=np.int64)
        truth = np.loadtxt(files[2], dtype=np.int64) if len(files) > 2 else None
        for key, value in reference(x, labels, truth, sample, seed).items():
            print(f"{key}={format_value(value)}")
    elif cmd == "netcdf":
        netcdf_matrix(sys.argv[2], sys.argv[3:])
    elif cmd == "kmeans":
        prefix, k, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        labels = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(read_bin(prefix + ".bin").astype(np.float64))
        times = open(prefix + ".times").read().split()
        with open(out, "w") as f:
            f.write("time,label\n")
            for t, l in zip(times, labels):
                f.write(f"{t},{l}\n")
    elif cmd == "reference-csv":
        prefix = sys.argv[2]
        times = open(prefix + ".times").read().split()
        labels = read_csv_labels(sys.argv[3], times)
        truth = read_csv_labels(sys.argv[4], times) if len(sys.argv) > 4 else None
        x = read_bin(prefix + ".bin")
        r = reference(x, labels, truth)
        r["n_samples"], r["n_features"], r["n_clusters"] = x.shape[0], x.shape[1], len(np.unique(labels))
        for key, value in r.items():
            print(f"{key}={format_value(value)}")
    elif cmd == "latent":
        # latent PREFIX CHECKPOINT OUT: the latent features of the padded
        # matrix PREFIX.padded.bin computed by the PyTorch twin of the
        # checkpoint's model
        prefix, ckpt, out = sys.argv[2], sys.argv[3], sys.argv[4]
        write_bin(out + ".bin", twin_encode(ckpt, read_bin(prefix + ".padded.bin"), "float32"))
        with open(out + ".times", "w") as f:
            f.write(open(prefix + ".times").read())
    elif cmd == "latent-check":
        # latent-check PREFIX CHECKPOINT LATENT.nc OUT: dsc's latent features
        # (dsc eval --save-latent) against the PyTorch twin of the checkpoint
        # on the matrix PREFIX.padded.bin; writes dsc's own latents to OUT.bin /
        # OUT.times for reference-csv.  See latent_check.
        sys.exit(latent_check(*sys.argv[2:6]))
    elif cmd == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else RTOL))


if __name__ == "__main__":
    main()
