"""train_check.py - checks on the outputs of dsc train for tests/train.sh.

  train_check.py params A.ckpt B.ckpt TOL      every tensor of B within TOL * max|A| of A
  train_check.py labels A.csv B.csv FRACTION   at least FRACTION of the time steps have the same label
  train_check.py outputs DIR T K               every output file of a run is there and consistent
  train_check.py eval RUN.json EVAL.json       dsc eval of the run's labels equals the run's metrics
  train_check.py pretrain RUN.json N           the run pre-trained N epochs (one loss per epoch)
  train_check.py same-metrics A.json B.json    the silhouettes and Davies-Bouldin of two runs agree to 1e-9
  train_check.py copy SRC.nc DST.nc reverse    a copy with the field variables in reverse order
  train_check.py copy SRC.nc DST.nc units VAR U  a copy whose VAR has units U
  train_check.py strip-inputs A.ckpt B.ckpt    A as an older dsc wrote it: statistics record version 2,
                                               without the names, units and coordinates of the inputs
  train_check.py latent A.nc B.nc OFFSET TOL [FIRST]
                                               the latents of B from row FIRST (default 0) on equal rows
                                               OFFSET + FIRST.. of A's within TOL * max|A|; its rows before
                                               FIRST differ from A's by more
Exits non-zero with a message on any failure.
"""
import json
import struct
import sys

import numpy as np


def read_params(path):
    """Tensors of a dsc checkpoint (format in include/checkpoint.h)."""
    b = open(path, "rb").read()
    if b[:8] != b"DSCCKPT\0":
        raise SystemExit(f"{path}: not a dsc checkpoint")
    off = 24
    (narch,) = struct.unpack_from("<I", b, off)
    off += 4 + 4 * narch + 8
    (nt,) = struct.unpack_from("<I", b, off)
    off += 4
    tensors = []
    for _ in range(nt):
        (ln,) = struct.unpack_from("<I", b, off)
        off += 4
        name = b[off:off + ln].decode()
        off += ln
        (nd,) = struct.unpack_from("<I", b, off)
        off += 4 + 4 * nd
        o, size = struct.unpack_from("<QQ", b, off)
        off += 16
        tensors.append((name, o, size))
    (n,) = struct.unpack_from("<Q", b, off)
    off += 8
    vals = struct.unpack_from(f"<{n}f", b, off)
    return {name: vals[o:o + size] for name, o, size in tensors}


def params(a, b, tol):
    pa, pb = read_params(a), read_params(b)
    if pa.keys() != pb.keys():
        raise SystemExit("the checkpoints hold different tensors")
    worst = 0.0
    for name in pa:
        scale = max(abs(v) for v in pa[name]) or 1.0
        d = max(abs(x - y) for x, y in zip(pa[name], pb[name])) / scale
        worst = max(worst, d)
        if d > tol:
            raise SystemExit(f"{name}: relative difference {d:.3g} > {tol}")
    print(f"largest relative difference {worst:.3g}")


def read_labels(path):
    rows = [l.strip().split(",") for l in open(path) if l.strip() and not l.startswith("time")]
    return [r[0] for r in rows], [int(r[1]) for r in rows]


def labels(a, b, frac):
    ta, la = read_labels(a)
    tb, lb = read_labels(b)
    if ta != tb:
        raise SystemExit("the label files cover different time steps")
    f = sum(x == y for x, y in zip(la, lb)) / len(la)
    print(f"labels agree on {f:.4f} of {len(la)} time steps")
    if f < frac:
        raise SystemExit(f"labels agree on {f:.4f} < {frac}")


def outputs(d, T, K):
    import netCDF4
    import numpy as np
    T, K = int(T), int(K)
    times, lab = read_labels(f"{d}/labels.csv")
    assert len(lab) == T, f"labels.csv has {len(lab)} rows, expected {T}"
    assert set(lab) <= set(range(K)), "labels outside 0..K-1"
    with netCDF4.Dataset(f"{d}/labels.nc") as f:
        assert list(f.variables["label"][:]) == lab, "labels.nc differs from labels.csv"
        q = np.array(f.variables["q"][:])
        assert q.shape == (T, K), q.shape
        assert np.allclose(q.sum(1), 1, atol=1e-5), "q rows do not sum to 1"
        top = np.sort(q, 1)
        clear = top[:, -1] - top[:, -2] > 1e-5  # float32 q: ties within rounding say nothing
        assert (q.argmax(1) == np.array(lab))[clear].all(), "labels are not argmax q"
    with netCDF4.Dataset(f"{d}/latent.nc") as f:
        z = np.array(f.variables["z"][:])
        assert z.shape[0] == T and np.isfinite(z).all(), "latent.nc"
    with netCDF4.Dataset(f"{d}/centroids.nc") as f:
        c = np.array(f.variables["centroid"][:])
        assert c.shape == (K, z.shape[1]), c.shape
    with netCDF4.Dataset(f"{d}/composites.nc") as f:
        counts = np.array(f.variables["count"][:])
        assert list(counts) == [lab.count(k) for k in range(K)], "composite counts differ from the labels"
    m = json.load(open(f"{d}/metrics.json"))
    for key in ("silhouette", "davies_bouldin", "cluster_sizes", "history", "timings"):
        assert key in m, f"metrics.json lacks {key}"
    assert m["cluster_sizes"] == [lab.count(k) for k in range(K)], "cluster_sizes"
    for phase in ("read", "pretrain", "kmeans", "joint_compute", "joint_allreduce_wait", "write"):
        assert phase in m["timings"] and m["timings"][phase]["max"] >= 0, phase
    print("outputs consistent")


def evaluate(run, ev):
    a, b = json.load(open(run)), json.load(open(ev))
    for key in ("silhouette", "silhouette_cosine", "davies_bouldin", "rmse_mean", "avg_variance", "ari", "nmi"):
        x, y = a[key], b[key]
        if abs(x - y) > 1e-6 * max(1.0, abs(y)):
            raise SystemExit(f"{key}: run {x} eval {y}")
    print("run metrics equal dsc eval's")


def pretrain(run, n):
    m = json.load(open(run))
    if m["pretrain_epochs"] != n or len(m["pretrain_loss"]) != n:
        raise SystemExit(f"pretrain_epochs {m['pretrain_epochs']}, {len(m['pretrain_loss'])} losses; expected {n}")
    print(f"{n} pre-training epochs")


def same_metrics(a, b):
    x, y = json.load(open(a)), json.load(open(b))
    for key in ("silhouette", "silhouette_cosine", "davies_bouldin"):
        if x[key] is None or y[key] is None or abs(x[key] - y[key]) > 1e-9 * max(1.0, abs(y[key])):
            raise SystemExit(f"{key}: {a} {x[key]}, {b} {y[key]}")
    print("same metrics")


def copy(src, dst, how, var=None, units=None):
    """Copies a netCDF file variable by variable (raw values, every
    attribute), field variables in reverse order or with other units."""
    import netCDF4
    with netCDF4.Dataset(src) as a, netCDF4.Dataset(dst, "w", format=a.data_model) as b:
        a.set_auto_maskandscale(False)
        b.setncatts({k: a.getncattr(k) for k in a.ncattrs()})
        for name, d in a.dimensions.items():
            b.createDimension(name, None if d.isunlimited() else len(d))
        coords = [n for n in a.variables if n in a.dimensions]
        fields = [n for n in a.variables if n not in a.dimensions]
        if how == "reverse":
            fields = fields[::-1]
        for name in coords + fields:
            v = a.variables[name]
            atts = {k: v.getncattr(k) for k in v.ncattrs()}
            w = b.createVariable(name, v.dtype, v.dimensions, fill_value=atts.pop("_FillValue", None))
            w.set_auto_maskandscale(False)
            if how == "units" and name == var:
                atts["units"] = units
            w.setncatts(atts)
            w[:] = v[:]
    print(f"{dst}: {how}")


def fnv1a(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def strip_inputs(src, dst):
    """The checkpoint with its statistics record turned into version 2 (as
    before the inputs were recorded), size and checksum recomputed."""
    b = bytearray(open(src, "rb").read())
    off = 24
    (narch,) = struct.unpack_from("<I", b, off)
    off += 4 + 4 * narch + 8
    (nt,) = struct.unpack_from("<I", b, off)
    off += 4
    for _ in range(nt):
        (ln,) = struct.unpack_from("<I", b, off)
        off += 4 + ln
        (nd,) = struct.unpack_from("<I", b, off)
        off += 4 + 4 * nd + 16
    (n,) = struct.unpack_from("<Q", b, off)
    off += 8 + 4 * n
    off += 4 + 28 + 8  # optimizer kind, settings, step
    (ns,) = struct.unpack_from("<I", b, off)
    off += 4 + 4 * n * ns
    off += 32 + 4 + 32 + 16  # dropout rng, caller rng, counters
    (nb,) = struct.unpack_from("<Q", b, off)
    rec = np.frombuffer(bytes(b[off + 8:off + 8 + nb]), dtype="<f8").copy()
    if rec[1] != 3:
        raise SystemExit(f"{src}: statistics record version {rec[1]}, expected 3")
    V, Y, X = int(rec[2]), int(rec[3]), int(rec[4])
    rec = rec[:len(rec) - (V * 2 * 64 + Y + X)]
    rec[1] = 2
    out = b[:off] + struct.pack("<Q", rec.nbytes) + rec.tobytes() + b[off + 8 + nb:-8]
    out[16:24] = struct.pack("<Q", len(out) + 8)
    out += struct.pack("<Q", fnv1a(out))
    open(dst, "wb").write(out)
    print(f"{dst}: statistics record version 2")
def latent(a, b, offset, tol, first=0):
    import netCDF4
    import numpy as np
    za = np.asarray(netCDF4.Dataset(a).variables["z"][:], dtype=np.float64)
    zb = np.asarray(netCDF4.Dataset(b).variables["z"][:], dtype=np.float64)
    part = za[offset:offset + len(zb)]
    if part.shape != zb.shape:
        raise SystemExit(f"rows {offset}.. of {a} {part.shape}, {b} {zb.shape}")
    worst = np.abs(part - zb).max(axis=1)
    limit = tol * np.abs(za).max()
    same = np.nonzero(worst[:first] <= limit)[0]
    if len(same):
        raise SystemExit(f"time step {same[0]} of {b} should differ but agrees (by {worst[same[0]]:.3g})")
    bad = first + np.nonzero(worst[first:] > limit)[0]
    if len(bad):
        raise SystemExit(f"{len(bad)} time steps differ, the first: {bad[0]} (by {worst[bad[0]]:.3g})")
    print(f"latents of {len(zb) - first} time steps agree (largest difference {worst[first:].max():.3g}), {first} differ")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "params":
        params(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif cmd == "labels":
        labels(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif cmd == "outputs":
        outputs(*sys.argv[2:5])
    elif cmd == "eval":
        evaluate(sys.argv[2], sys.argv[3])
    elif cmd == "pretrain":
        pretrain(sys.argv[2], int(sys.argv[3]))
    elif cmd == "same-metrics":
        same_metrics(sys.argv[2], sys.argv[3])
    elif cmd == "copy":
        copy(*sys.argv[2:])
    elif cmd == "strip-inputs":
        strip_inputs(sys.argv[2], sys.argv[3])
    elif cmd == "latent":
        latent(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]) if len(sys.argv) > 6 else 0)
    else:
        raise SystemExit(f"unknown command {cmd}")
