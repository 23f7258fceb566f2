"""reader_compare.py - outside twin of the reader and the pre-processing.

The binary matrices written by tests/test_read (16-byte header int64 T,
int64 D, then T*D values) are compared with what netCDF4-python reads
(it unpacks scale_factor/add_offset and masks _FillValue/missing_value by
itself) and with a numpy reimplementation of preprocess.h.

  reader_compare.py raw --bin raw.bin --times times.bin --vars t2m,sp [--daily-mean] [--box S,N,W,E] [--time-range A/B] FILES...
  reader_compare.py preprocess --raw raw.bin --times times.bin --out x.bin [--scaling cell] [--anomalies]
                    [--climatology harmonic|daily] [--harmonics N] [--grid Y,X,V]
  reader_compare.py anomalies --raw raw.bin --times times.bin --prepared a.bin --grid Y,X,V [--anomalies]
                    [--climatology harmonic|daily] [--harmonics N] [--scaling S] [--rtol R]
                                                (values before scaling, against np.linalg.lstsq per cell)
  reader_compare.py agree --vars V1,V2 --legacy F1,F2 a.bin b.bin   (packed vs float encodings)
  reader_compare.py same a.bin b.bin --rtol R [--atol A]  (two matrices of the same values)

Exit status 0 when the check holds; the first differences are printed.
"""
import argparse
import datetime
import sys
import warnings

import numpy as np
import netCDF4

ALIASES = {
    "sst": ["sst", "var34", "SSTK"],
    "sp": ["sp", "var134", "SP"],
    "sshf": ["sshf", "var146", "SSHF"],
    "slhf": ["slhf", "var147", "SLHF"],
    "t2m": ["t2m", "2t", "var167", "VAR_2T"],
    "u10": ["u10", "10u", "var165", "VAR_10U"],
    "v10": ["v10", "10v", "var166", "VAR_10V"],
}
TIME_NAMES = ["time", "valid_time", "t"]
LAT_NAMES = ["latitude", "lat", "y"]
LON_NAMES = ["longitude", "lon", "x"]
EPOCH = datetime.datetime(1900, 1, 1)


def load(path, dtype=np.float32):
    with open(path, "rb") as f:
        t, d = np.frombuffer(f.read(16), dtype=np.int64)
        x = np.frombuffer(f.read(), dtype=dtype)
    assert x.size == t * d, f"{path}: {x.size} values, header says {t} x {d}"
    return x.reshape(t, d)


def find(ds, names, what):
    for n in names:
        if n in ds.variables:
            return ds.variables[n]
    raise SystemExit(f"{ds.filepath()}: no {what} among {names}")


def hours_of(tvar):
    """Hours since 1900-01-01 of a time variable (any CF units, calendar)."""
    cal = getattr(tvar, "calendar", "standard")
    dates = netCDF4.num2date(tvar[:], tvar.units, calendar=cal, only_use_cftime_datetimes=True)
    out = []
    for d in dates:
        g = datetime.datetime(d.year, d.month, d.day, d.hour, d.minute, d.second)
        out.append((g - EPOCH).total_seconds() / 3600.0)
    return np.array(out)


LEVEL_NAMES = ["pressure_level", "level", "plev", "isobaricInhPa"]


def field(ds, name, lat_sel, lon_sel):
    """(T, Y, X) float64 with NaN for masked values; expver entries combined;
    NAME@LEVEL: that pressure level of NAME."""
    level = None
    if "@" in name:
        name, level = name.split("@")
    var = find(ds, ALIASES.get(name, [name]), name)
    var.set_auto_maskandscale(True)
    dims = var.dimensions
    a = var[:]
    if level is not None:
        ldim = next(d for d in dims if d in LEVEL_NAMES)
        k = int(np.nonzero(np.isclose(ds.variables[ldim][:], float(level)))[0][0])
        a = np.take(a, k, axis=dims.index(ldim))
        dims = tuple(d for d in dims if d != ldim)
    a = np.ma.filled(np.ma.asarray(a).astype(np.float64), np.nan)
    if "expver" in dims:
        e = dims.index("expver")
        a = np.moveaxis(a, e, 1)  # (T, E, Y, X)
        out = np.full(a.shape[:1] + a.shape[2:], np.nan)
        for k in range(a.shape[1]):  # first entry that is not missing wins
            take = np.isnan(out) & ~np.isnan(a[:, k])
            out[take] = a[:, k][take]
        a = out
    return a[:, lat_sel][:, :, lon_sel]


def has_var(ds, name):
    name = name.split("@")[0]
    return any(n in ds.variables for n in ALIASES.get(name, [name]))


def cmd_raw(args):
    names = args.vars.split(",")
    # files of the same time steps that hold different variables (the new CDS
    # instant/accum pair) are merged by variable: the first file in path
    # order that holds a variable gives it
    groups = {}
    for path in sorted(args.files):
        ds = netCDF4.Dataset(path)
        key = tuple(hours_of(find(ds, TIME_NAMES, "time")))
        held = [v for v in names if has_var(ds, v)]
        ds.close()
        g = groups.setdefault(key, {})
        for v in held:
            g.setdefault(v, path)
    pieces, hours = [], []
    for key, holder in groups.items():
        missing = [v for v in names if v not in holder]
        if missing:
            raise SystemExit(f"no file holds {missing} for the steps of {list(holder.values())}")
        fields = []
        for v in names:
            ds = netCDF4.Dataset(holder[v])
            lat = find(ds, LAT_NAMES, "latitude")[:]
            lon = find(ds, LON_NAMES, "longitude")[:]
            if args.box:
                s, n, w, e = map(float, args.box.split(","))
                lat_sel = np.where((lat >= s - 1e-9) & (lat <= n + 1e-9))[0]
                lon_sel = np.where((lon >= w - 1e-9) & (lon <= e + 1e-9))[0]
            else:
                lat_sel, lon_sel = np.arange(lat.size), np.arange(lon.size)
            fields.append(field(ds, v, lat_sel, lon_sel))
            ds.close()
        pieces.append(np.stack(fields, axis=1))  # (T, V, Y, X)
        hours.append(np.array(key))
    h = np.concatenate(hours)
    x = np.concatenate(pieces)
    order = np.argsort(h, kind="stable")
    h, x = h[order], x[order]
    if args.time_range:  # START/END dates, END's whole day included
        a, b = (datetime.datetime.fromisoformat(d) for d in args.time_range.split("/"))
        lo = (a - EPOCH).total_seconds() / 3600.0
        hi = (b - EPOCH).total_seconds() / 3600.0 + 24.0
        keep = (h >= lo) & (h < hi)
        h, x = h[keep], x[keep]
    if args.daily_mean:
        day = np.floor(h / 24.0)
        days = np.unique(day)
        with warnings.catch_warnings():  # a day with every step missing gives NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            x = np.stack([np.nanmean(x[day == d], axis=0) for d in days])
        h = days * 24.0
    expect = x.reshape(x.shape[0], -1)
    got = load(args.bin).astype(np.float64)
    ok = True
    if got.shape != expect.shape:
        print(f"shape {got.shape}, netCDF4 gives {expect.shape}")
        return 1
    if args.times:
        t = load(args.times, np.float64)[:, 0]
        if args.daily_mean:
            t = np.floor(t / 24.0) * 24.0
        if not np.array_equal(t, h):
            i = np.nonzero(t != h)[0][:5]
            print(f"times differ at {i}: {t[i]} vs {h[i]}")
            ok = False
    nan_got, nan_exp = np.isnan(got), np.isnan(expect)
    if not np.array_equal(nan_got, nan_exp):
        i = np.argwhere(nan_got != nan_exp)[:5]
        print(f"missing values differ ({np.sum(nan_got)} vs {np.sum(nan_exp)}), first at {i.tolist()}")
        ok = False
    both = ~nan_got & ~nan_exp
    err = np.abs(got[both] - expect[both])
    bound = args.rtol * np.abs(expect[both])
    bad = err > bound
    if np.any(bad):
        i = np.argwhere(both)[np.nonzero(bad)[0][:5]]
        print(f"{np.sum(bad)} values differ by more than {args.rtol} relative; first {i.tolist()}: "
              f"{got[tuple(i.T)]} vs {expect[tuple(i.T)]}")
        ok = False
    print(f"compared {got.size} values ({np.sum(nan_exp)} missing), largest relative difference "
          f"{np.max(err / np.maximum(np.abs(expect[both]), 1e-300)) if err.size else 0:.3g}")
    return 0 if ok else 1


def day_index(hours):
    """Climatology slot: day of year counted in a leap year (Feb 29 = 59)."""
    out = []
    for h in hours:
        d = EPOCH + datetime.timedelta(hours=float(h))
        out.append((datetime.date(2000, d.month, d.day) - datetime.date(2000, 1, 1)).days)
    return np.array(out)


YEAR_HOURS = 24 * 365.2425  # the tropical year
MIN_SPAN_HOURS = 360 * 24  # shorter records get the mean of each cell


def harmonic_basis(hours, origin, n):
    """(T, 2 + 2n): 1, tau, cos(2 pi k tau), sin(2 pi k tau) with tau in years from origin."""
    tau = (hours - origin) / YEAR_HOURS
    cols = [np.ones_like(tau), tau]
    for k in range(1, n + 1):
        cols += [np.cos(2 * np.pi * k * tau), np.sin(2 * np.pi * k * tau)]
    return np.stack(cols, axis=1)


def fit_cell(b, y):
    """Least squares of y on the longest leading block of columns of b
    (1 + trend + k harmonics, 1 + trend, or 1) that has full rank."""
    p = b.shape[1]
    for size in [p] + list(range(p - 2, 1, -2)) + [1]:
        if np.linalg.matrix_rank(b[:, :size]) == size:
            coef = np.zeros(p)
            coef[:size] = np.linalg.lstsq(b[:, :size], y, rcond=None)[0]
            return coef
    raise AssertionError("no column of b has full rank")


def harmonic_climatology(x, hours, fill, n):
    """(T, V, Y, X): per cell and hour of day, the least-squares fit of
    mean + trend + n annual harmonics to the valid values, at every time."""
    T = x.shape[0]
    flat = x.reshape(T, -1)
    cell_var = np.repeat(np.arange(x.shape[1]), flat.shape[1] // x.shape[1])
    origin = 24 * np.floor((hours.min() + hours.max()) / 48)
    short = hours.max() - hours.min() < MIN_SPAN_HOURS
    b = harmonic_basis(hours, origin, n)
    hour = np.floor(hours + 1 / 120).astype(np.int64) % 24
    clim = np.empty_like(flat)
    for h in np.unique(hour):
        rows = hour == h
        bh, yh = b[rows], flat[rows]
        valid = ~np.isnan(yh)
        coef = np.zeros((b.shape[1], flat.shape[1]))
        whole = valid.all(axis=0)
        if short:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                coef[0] = np.nanmean(yh, axis=0)
        elif whole.any():  # cells valid at every step share the matrix
            coef[:, whole] = np.linalg.lstsq(bh, yh[:, whole], rcond=None)[0]
        for c in np.nonzero(~whole)[0]:
            if not valid[:, c].any():
                coef[:, c] = 0
                coef[0, c] = fill[cell_var[c]]
            elif not short:
                coef[:, c] = fit_cell(bh[valid[:, c]], yh[valid[:, c], c])
        clim[rows] = bh @ coef
    return clim.reshape(x.shape)


def daily_climatology(x, hours, fill):
    """(T, V, Y, X) float32: the mean of the valid values of each calendar day."""
    V, Y, X = x.shape[1:]
    slot = day_index(hours)
    clim = np.empty((366, V, Y, X), dtype=np.float32)
    for d in range(366):
        sel = x[slot == d]
        cnt = np.sum(~np.isnan(sel), axis=0)
        s = np.nansum(sel, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.where(cnt > 0, s / np.maximum(cnt, 1), fill[:, None, None])
        clim[d] = m.astype(np.float32)
    return clim[slot]


def prepared(raw, hours, grid, anomalies, climatology="harmonic", harmonics=3):
    """(T, V, Y, X) float64: filled values minus the climatology, rounded to float32."""
    Y, X, V = grid
    T = raw.shape[0]
    x = raw.reshape(T, V, Y, X).astype(np.float64)
    fill = np.array([np.nanmean(x[:, v]) for v in range(V)])
    filled = np.where(np.isnan(x), fill[None, :, None, None], x)
    if anomalies and climatology == "daily":
        filled = filled - daily_climatology(x, hours, fill).astype(np.float64)
    elif anomalies:
        filled = filled - harmonic_climatology(x, hours, fill, harmonics)
    return filled.astype(np.float32).astype(np.float64), filled


def preprocess(raw, hours, grid, scaling, anomalies, climatology="harmonic", harmonics=3):
    Y, X, V = grid
    T = raw.shape[0]
    p, _ = prepared(raw, hours, grid, anomalies, climatology, harmonics)
    if scaling == "cell":
        lo, hi = p.min(axis=0, keepdims=True), p.max(axis=0, keepdims=True)
    else:
        lo = p.min(axis=(0, 2, 3), keepdims=True)
        hi = p.max(axis=(0, 2, 3), keepdims=True)
    rng = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(rng > 0, (p - lo) / np.where(rng > 0, rng, 1), 0.0)
    H, W = (Y + 15) // 16 * 16, (X + 15) // 16 * 16
    out = np.zeros((T, V, H, W), dtype=np.float32)
    out[:, :, :Y, :X] = s  # padding after the last latitude and longitude
    return out.reshape(T, -1)


def cmd_preprocess(args):
    raw = load(args.raw)
    hours = load(args.times, np.float64)[:, 0]
    grid = tuple(int(v) for v in args.grid.split(","))
    expect = preprocess(raw, hours, grid, args.scaling, args.anomalies, args.climatology, args.harmonics)
    got = load(args.out)
    if got.shape != expect.shape:
        print(f"shape {got.shape}, numpy gives {expect.shape}")
        return 1
    err = np.abs(got.astype(np.float64) - expect)
    print(f"compared {got.size} values, largest difference {err.max():.3g}")
    if err.max() > args.atol or np.isnan(got).any():
        i = np.unravel_index(np.argmax(err), err.shape)
        print(f"differs at {i}: {got[i]} vs {expect[i]}")
        return 1
    return 0


def cmd_anomalies(args):
    """The values before scaling: |dsc - numpy| <= rtol * (largest |value| of the variable)."""
    raw = load(args.raw)
    hours = load(args.times, np.float64)[:, 0]
    grid = tuple(int(v) for v in args.grid.split(","))
    _, expect = prepared(raw, hours, grid, args.anomalies, args.climatology, args.harmonics)
    T, V = expect.shape[:2]
    got = load(args.prepared).astype(np.float64).reshape(expect.shape)
    scale = np.max(np.abs(np.where(np.isnan(raw), 0, raw)).reshape(T, V, -1), axis=(0, 2))
    err = np.abs(got - expect)
    rel = np.max(err.reshape(T, V, -1), axis=(0, 2)) / np.maximum(scale, 1e-30)
    spread = np.std(expect.reshape(T, V, -1), axis=(0, 2))
    print(f"compared {got.size} anomalies of {V} variables; largest difference relative to the variable's scale "
          f"{rel.max():.3g}; anomaly std / scale {np.min(spread / np.maximum(scale, 1e-30)):.3g}..{np.max(spread / np.maximum(scale, 1e-30)):.3g}")
    if np.isnan(got).any() or rel.max() > args.rtol:
        i = np.unravel_index(np.argmax(err), err.shape)
        print(f"differs at {i}: {got[i]} vs {expect[i]}")
        return 1
    return 0


def cmd_agree(args):
    """Packed and float encodings of one data set: equal to half a packing step."""
    a, b = load(args.a).astype(np.float64), load(args.b).astype(np.float64)
    if a.shape != b.shape:
        print(f"shapes {a.shape} and {b.shape}")
        return 1
    names = args.vars.split(",")
    V = len(names)
    T = a.shape[0]
    a, b = a.reshape(T, V, -1), b.reshape(T, V, -1)
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        print("missing values differ")
        return 1
    ok = True
    for v, name in enumerate(names):
        step = 0.0
        for path in args.legacy.split(","):
            ds = netCDF4.Dataset(path)
            step = max(step, float(getattr(find(ds, ALIASES.get(name, [name]), name), "scale_factor", 0.0)))
            ds.close()
        d = np.nanmax(np.abs(a[:, v] - b[:, v]))
        # half a packing step, plus the float32 rounding of both encodings
        bound = 0.5 * step + 2.0 ** -23 * np.nanmax(np.abs(b[:, v]))
        print(f"{name}: largest difference {d:.3g}, bound {bound:.3g} (half a packing step {0.5 * step:.3g})")
        ok = ok and d <= bound and step > 0
    return 0 if ok else 1


def cmd_same(args):
    a, b = load(args.a).astype(np.float64), load(args.b).astype(np.float64)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        print(f"shapes {a.shape} {b.shape} or missing values differ")
        return 1
    m = ~np.isnan(a)
    err = np.abs(a[m] - b[m])
    rel = err / np.maximum(np.abs(b[m]), 1e-30)
    print(f"compared {a.size} values, largest difference {err.max():.3g}, largest relative difference {rel.max():.3g}")
    return 0 if np.all(err <= args.atol + args.rtol * np.abs(b[m])) else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("raw")
    r.add_argument("--bin", required=True)
    r.add_argument("--times")
    r.add_argument("--vars", required=True)
    r.add_argument("--daily-mean", action="store_true")
    r.add_argument("--box")
    r.add_argument("--time-range", help="START/END dates (YYYY-MM-DD)")
    r.add_argument("--rtol", type=float, default=1e-6)
    r.add_argument("files", nargs="+")
    q = sub.add_parser("preprocess")
    q.add_argument("--raw", required=True)
    q.add_argument("--times", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--grid", required=True, help="Y,X,V")
    q.add_argument("--scaling", default="variable", choices=["variable", "cell"])
    q.add_argument("--anomalies", action="store_true")
    q.add_argument("--climatology", default="harmonic", choices=["harmonic", "daily"])
    q.add_argument("--harmonics", type=int, default=3)
    q.add_argument("--atol", type=float, default=1e-6)
    n = sub.add_parser("anomalies")
    n.add_argument("--raw", required=True)
    n.add_argument("--times", required=True)
    n.add_argument("--prepared", required=True)
    n.add_argument("--grid", required=True, help="Y,X,V")
    n.add_argument("--climatology", default="harmonic", choices=["harmonic", "daily"])
    n.add_argument("--harmonics", type=int, default=3)
    n.add_argument("--anomalies", action="store_true")
    n.add_argument("--scaling", help="accepted and ignored: the values before scaling")
    n.add_argument("--rtol", type=float, default=1e-6)
    g = sub.add_parser("agree")
    g.add_argument("--vars", required=True)
    g.add_argument("--legacy", required=True, help="comma-separated packed files")
    g.add_argument("a")
    g.add_argument("b")
    s = sub.add_parser("same")
    s.add_argument("--rtol", type=float, default=1e-6)
    s.add_argument("--atol", type=float, default=0.0)
    s.add_argument("a")
    s.add_argument("b")
    args = p.parse_args()
    return {"raw": cmd_raw, "preprocess": cmd_preprocess, "anomalies": cmd_anomalies, "agree": cmd_agree,
            "same": cmd_same}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
