"""scikit-learn references of the baselines for tests/pca.sh and tests/ward.sh.

The matrix is the numpy twin of dsc's normalised input (metrics_sklearn.py
netcdf PREFIX FILES: PREFIX.bin (T, V*Y*X) float32, PREFIX.times), used
in float64 as dsc does (double arithmetic on the float32 values).

  baselines_sklearn.py anomaly-twin PREFIX FILES...
        the same for --anomalies (harmonic climatology) through the numpy
        twin of preprocess.c in reader_compare.py (float32 rounding and the
        least-squares fit may differ from dsc's in the last bits)
  baselines_sklearn.py pca-ref PREFIX C REF.npz
        PCA(n_components=C, svd_solver="full"): explained variance (ratio),
        components, scores
  baselines_sklearn.py pca-compare REF.npz PREFIX OUTDIR DATA.nc
        exits 1 unless dsc's output folder of `kmeans --pca C` agrees:
        explained_variance_ratio (eofs.nc, pcs.nc, metrics.json) and
        explained_variance (eofs.nc) to 1e-5 relative; every VAR_eof map on the input's latitude / longitude, the
        largest loading of each mode positive, and pc(time, mode) equal to
        scikit-learn's up to the sign of each mode (1e-4 of the largest
        value); KMeans(init = the cluster means of dsc's labels on
        scikit-learn's scores, n_init=1) keeps dsc's labels and gives
        dsc's centroids.nc (space pca) to 1e-5
  baselines_sklearn.py cosine-compare PREFIX OUTDIR
        exits 1 unless dsc's output folder of `kmeans --cosine` is a fixed
        point of scikit-learn's KMeans on the matrix's rows centred (mean
        row of all time steps removed) and scaled to unit length:
        KMeans(init = the cluster means of dsc's labels on those rows,
        n_init=1) keeps dsc's labels, gives dsc's centroids.nc (space
        unit) to 1e-5 and its inertia to 1e-5 relative
  baselines_sklearn.py ward-ref PREFIX K OUT [C]
        AgglomerativeClustering(n_clusters=K, linkage="ward") on the matrix
        (or on its C leading principal components, rounded to float32 as
        dsc's pcs are), labels one per line in time order; fails unless
        the data are tie-free: the merge heights of scipy's Ward linkage
        differ by more than 1e-9 relative from each other
  baselines_sklearn.py ward-compare REF PREFIX OUTDIR
        exits 1 unless dsc's labels.csv has ARI 1 against REF and
        centroids.nc holds the cluster means of the clustered matrix (the
        input, or pcs.nc with --pca) to 1e-5
"""
import json
import sys

import numpy as np


def read_bin(path):
    with open(path, "rb") as f:
        t, d = np.fromfile(f, dtype=np.int64, count=2)
        return np.fromfile(f, dtype=np.float32, count=t * d).reshape(t, d)


def read_times(prefix):
    return [line.strip() for line in open(prefix + ".times")]


def read_labels_csv(path, times):
    table = {}
    for line in open(path):
        parts = line.strip().split(",")
        if len(parts) == 2 and parts[0][:1].isdigit():
            table[parts[0][:19]] = int(parts[1])
    return np.array([table[t[:19]] for t in times])


def matrix(prefix):
    return read_bin(prefix + ".bin").astype(np.float64)


def anomaly_twin(prefix, files):
    """PREFIX.bin / PREFIX.times: the --anomalies matrix (harmonic
    climatology, 3 harmonics, min-max per variable) from the numpy twin of
    preprocess.c in reader_compare.py, on the real cells."""
    import datetime
    import os
    import netCDF4
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from reader_compare import preprocess
    names = ["sst", "sp", "sshf", "slhf", "t2m", "u10", "v10"]
    fields, hours = [], []
    epoch = datetime.datetime(1900, 1, 1)
    for path in files:
        with netCDF4.Dataset(path) as ds:
            tvar = ds.variables["time"]
            dates = netCDF4.num2date(tvar[:], tvar.units, calendar=getattr(tvar, "calendar", "standard"),
                                     only_use_cftime_datetimes=True)
            hours += [(datetime.datetime(d.year, d.month, d.day, d.hour) - epoch).total_seconds() / 3600 for d in dates]
            present = [n for n in names if n in ds.variables]
            fields.append(np.stack([np.ma.filled(ds.variables[n][:].astype(np.float32), np.nan) for n in present], axis=1))
    x = np.concatenate(fields)  # (T, V, Y, X) float32 as read
    order = np.argsort(hours)
    x, hours = x[order], np.array(hours)[order]
    t, v, ny, nx = x.shape
    padded = preprocess(x.reshape(t, -1), hours, (ny, nx, v), "variable", True)
    h, w = (ny + 15) // 16 * 16, (nx + 15) // 16 * 16
    real = padded.reshape(t, v, h, w)[:, :, :ny, :nx].reshape(t, -1)
    with open(prefix + ".bin", "wb") as f:
        np.array(real.shape, dtype=np.int64).tofile(f)
        np.ascontiguousarray(real, dtype=np.float32).tofile(f)
    with open(prefix + ".times", "w") as f:
        for hr in hours:
            f.write((epoch + datetime.timedelta(hours=float(hr))).strftime("%Y-%m-%dT%H:%M:%S") + "\n")
    return 0


def pca(x, c):
    from sklearn.decomposition import PCA
    p = PCA(n_components=c, svd_solver="full").fit(x)
    return p, p.transform(x)


def report(ok, what):
    print(("ok: " if ok else "FAILED: ") + what)
    return 0 if ok else 1


def pca_compare(ref_path, prefix, out, data):
    import netCDF4
    from sklearn.cluster import KMeans
    ref = np.load(ref_path)
    ratio, scores, comps = ref["ratio"], ref["scores"], ref["components"]
    c = ratio.size
    bad = 0
    names = ["sst", "sp", "sshf", "slhf", "t2m", "u10", "v10"]
    with netCDF4.Dataset(data) as src:
        present = [n for n in names if n in src.variables]
        lat, lon = src.variables["latitude"][:], src.variables["longitude"][:]
    ny, nx = lat.size, lon.size
    with netCDF4.Dataset(f"{out}/eofs.nc") as e:
        bad += report(e.dimensions["mode"].size == c and getattr(e, "Conventions", "") == "CF-1.8",
                      f"eofs.nc: {e.dimensions['mode'].size} modes (want {c}), CF-1.8")
        bad += report(np.array_equal(e.variables["latitude"][:], lat) and np.array_equal(e.variables["longitude"][:], lon),
                      "eofs.nc: the input's latitude and longitude")
        r_eof = np.asarray(e.variables["explained_variance_ratio"][:])
        v_eof = np.asarray(e.variables["explained_variance"][:])
        maps = np.concatenate([np.asarray(e.variables[f"{n}_eof"][:], dtype=np.float64).reshape(c, ny * nx)
                               for n in present], axis=1)  # (C, V*Y*X) in the twin's variable order
    with netCDF4.Dataset(f"{out}/pcs.nc") as p:
        r_pcs = np.asarray(p.variables["explained_variance_ratio"][:])
        pcs = np.asarray(p.variables["pc"][:], dtype=np.float64)
    m = json.load(open(f"{out}/metrics.json"))
    r_json = np.array(m["explained_variance_ratio"])
    for what, r in (("eofs.nc", r_eof), ("pcs.nc", r_pcs), ("metrics.json", r_json)):
        err = np.max(np.abs(r - ratio) / ratio) if r.shape == ratio.shape else np.inf
        bad += report(err <= 1e-5, f"{what}: explained_variance_ratio {np.array2string(r[:4], precision=6)}... "
                                   f"relative difference to scikit-learn {err:.2e} (limit 1e-5)")
    verr = np.max(np.abs(v_eof - ref["variance"]) / ref["variance"]) if v_eof.shape == ratio.shape else np.inf
    bad += report(verr <= 1e-5, f"eofs.nc: explained_variance relative difference to scikit-learn {verr:.2e} (limit 1e-5)")
    sign = np.sign(np.sum(maps * comps, axis=1))
    largest = maps[np.arange(c), np.argmax(np.abs(maps), axis=1)]
    bad += report(bool(np.all(largest > 0)), "every EOF's largest loading is positive")
    merr = np.max(np.abs(maps - sign[:, None] * comps)) / np.max(np.abs(comps))
    bad += report(merr <= 1e-4, f"EOF maps = scikit-learn components up to sign: {merr:.2e} (limit 1e-4)")
    aligned = scores * sign[None, :]
    serr = np.max(np.abs(pcs - aligned)) / np.max(np.abs(aligned)) if pcs.shape == aligned.shape else np.inf
    bad += report(serr <= 1e-4, f"pcs.nc: pc = scikit-learn scores up to sign: {serr:.2e} (limit 1e-4)")
    labels = read_labels_csv(f"{out}/labels.csv", read_times(prefix))
    k = int(labels.max()) + 1
    init = np.array([aligned[labels == j].mean(axis=0) for j in range(k)])
    km = KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd", tol=1e-4).fit(aligned)
    nlab = int(np.sum(km.labels_ != labels))
    bad += report(nlab == 0, f"KMeans from dsc's centroids on scikit-learn's scores: {nlab} labels differ from dsc's")
    with netCDF4.Dataset(f"{out}/centroids.nc") as cn:
        cent = np.asarray(cn.variables["centroid"][:])
        space = cn.variables["centroid"].feature_space
    cerr = np.max(np.abs(cent - km.cluster_centers_)) / np.max(np.abs(km.cluster_centers_))
    bad += report(space == "pca" and cerr <= 1e-5, f"centroids.nc ({space}) = KMeans centroids: {cerr:.2e} (limit 1e-5)")
    return 1 if bad else 0


def cosine_compare(prefix, out):
    import netCDF4
    from sklearn.cluster import KMeans
    x = matrix(prefix)
    z = x - x.mean(axis=0)
    u = z / np.linalg.norm(z, axis=1, keepdims=True)
    labels = read_labels_csv(f"{out}/labels.csv", read_times(prefix))
    k = int(labels.max()) + 1
    init = np.array([u[labels == j].mean(axis=0) for j in range(k)])
    km = KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd", tol=1e-4).fit(u)
    nlab = int(np.sum(km.labels_ != labels))
    bad = report(nlab == 0, f"KMeans from dsc's centroids on the unit-length rows: {nlab} labels differ from dsc's")
    with netCDF4.Dataset(f"{out}/centroids.nc") as cn:
        cent = np.asarray(cn.variables["centroid"][:])
        space = cn.variables["centroid"].feature_space
    cerr = np.max(np.abs(cent - km.cluster_centers_)) / np.max(np.abs(km.cluster_centers_)) if cent.shape == init.shape else np.inf
    bad += report(space == "unit" and cerr <= 1e-5, f"centroids.nc ({space}) = KMeans centroids: {cerr:.2e} (limit 1e-5)")
    m = json.load(open(f"{out}/metrics.json"))
    ierr = abs(m["inertia"] - km.inertia_) / km.inertia_
    bad += report(m["cosine"] is True and ierr <= 1e-5,
                  f"metrics.json: cosine {m['cosine']}, inertia {m['inertia']:.8g} against {km.inertia_:.8g} (limit 1e-5 relative)")
    return 1 if bad else 0


def ward_ref(prefix, k, out, c):
    from scipy.cluster.hierarchy import linkage
    from sklearn.cluster import AgglomerativeClustering
    x = matrix(prefix)
    if c > 0:
        x = pca(x, c)[1].astype(np.float32).astype(np.float64)
    h = np.sort(linkage(x, method="ward")[:, 2])
    gap = np.min(np.diff(h) / h[1:])
    print(f"smallest relative gap between merge heights: {gap:.3e}")
    if not gap > 1e-9:
        print("FAILED: the data have (near) ties between Ward merges; the labels would depend on rounding")
        return 1
    labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(x).labels_
    np.savetxt(out, labels, fmt="%d")
    return 0


def ward_compare(ref, prefix, out):
    import netCDF4
    from sklearn.metrics import adjusted_rand_score
    want = np.loadtxt(ref, dtype=np.int64)
    labels = read_labels_csv(f"{out}/labels.csv", read_times(prefix))
    ari = adjusted_rand_score(want, labels)
    bad = report(ari == 1.0, f"ARI against scikit-learn's Ward labels: {ari:.12f} (want 1)")
    with netCDF4.Dataset(f"{out}/centroids.nc") as cn:
        cent = np.asarray(cn.variables["centroid"][:])
        space = cn.variables["centroid"].feature_space
    if space == "pca":
        with netCDF4.Dataset(f"{out}/pcs.nc") as p:
            x = np.asarray(p.variables["pc"][:], dtype=np.float64)
    else:
        x = matrix(prefix)
    means = np.array([x[labels == j].mean(axis=0) for j in range(cent.shape[0])])
    cerr = np.max(np.abs(cent - means)) / np.max(np.abs(means))
    bad += report(cerr <= 1e-5, f"centroids.nc ({space}) = cluster means of the clustered matrix: {cerr:.2e}")
    return bad


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    a = sys.argv[2:]
    if cmd == "anomaly-twin":
        return anomaly_twin(a[0], a[1:])
    if cmd == "pca-ref":
        p, scores = pca(matrix(a[0]), int(a[1]))
        np.savez(a[2], ratio=p.explained_variance_ratio_, variance=p.explained_variance_, components=p.components_,
                 scores=scores)
        print("explained variance ratio", p.explained_variance_ratio_)
        return 0
    if cmd == "pca-compare":
        return pca_compare(a[0], a[1], a[2], a[3])
    if cmd == "cosine-compare":
        return cosine_compare(a[0], a[1])
    if cmd == "ward-ref":
        return ward_ref(a[0], int(a[1]), a[2], int(a[3]) if len(a) > 3 else 0)
    if cmd == "ward-compare":
        return ward_compare(a[0], a[1], a[2])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
