"""synth_check.py - checks of the dsc synth output with netCDF4 (which
unpacks scale_factor / add_offset and masks _FillValue by itself), for
tests/synth.sh.

  synth_check.py values DIR FIRST LAST K   ranges, missing SST cells, time axis,
                                           truth.csv, planted regimes
  synth_check.py agree LEGACY CDF5 YEAR    both encodings within packing precision
  synth_check.py hourly DAILY SUBDAILY YEAR daily means of sub-daily steps

Prints one line per failed check and exits 1 if any failed.
"""
import csv
import datetime
import sys

import netCDF4
import numpy as np

VARS = ["sst", "sp", "sshf", "slhf", "t2m", "u10", "v10"]
# Paper section 5.1
RANGES = {"sst": (285, 300), "sp": (98260, 103788), "sshf": (-674528, 200024),
          "slhf": (-1840906, 90131), "t2m": (281, 299), "u10": (-16, 19), "v10": (-15, 16)}
EPOCH = datetime.datetime(1900, 1, 1)
failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def read(path):
    ds = netCDF4.Dataset(path)
    return ds, {v: ds[v][:] for v in VARS if v in ds.variables}


def check_values(d, first, last, k):
    fields, times = [], []
    for year in range(first, last + 1):
        ds, data = read(f"{d}/era5_{year}.nc")
        lat = ds["latitude"][:]
        expect(np.all(np.diff(lat) < 0), f"{year}: latitude is not descending")
        t = ds["time"][:]
        ndays = (datetime.date(year + 1, 1, 1) - datetime.date(year, 1, 1)).days
        expect(len(t) == ndays, f"{year}: {len(t)} time steps, expected {ndays}")
        start = (datetime.datetime(year, 1, 1) - EPOCH).total_seconds() / 3600
        expect(np.array_equal(t, start + 24 * np.arange(len(t))), f"{year}: times are not 00:00 of each day")
        times += [EPOCH + datetime.timedelta(hours=int(h)) for h in t]
        raw = netCDF4.Dataset(f"{d}/era5_{year}.nc")
        raw.set_auto_maskandscale(False)
        for v, a in data.items():
            lo, hi = RANGES[v]
            tol = getattr(ds[v], "scale_factor", 0.0)
            expect(a.min() >= lo - tol and a.max() <= hi + tol,
                   f"{year} {v}: values {a.min()}..{a.max()} outside {lo}..{hi}")
            expect(a.std() > 0.02 * (hi - lo), f"{year} {v}: nearly constant (std {a.std()})")
            mask = np.ma.getmaskarray(a)
            if v == "sst":
                n = mask[0].sum()
                expect(0 < n < 0.05 * mask[0].size, f"{year} sst: {n} missing cells per day, expected a few")
                expect(np.all(mask == mask[0]), f"{year} sst: missing cells change from day to day")
            else:
                expect(not mask.any(), f"{year} {v}: has missing values")
            if ds[v].dtype == np.int16:
                p = raw[v][:]
                valid = p[p != -32767]
                expect(valid.min() >= -32766 and valid.max() <= 32766, f"{year} {v}: packed values reach the fill")
        fields.append(np.stack([np.ma.filled(data[v].astype(float), np.nan) for v in data], 1))
    x = np.concatenate(fields)  # (T, V, Y, X)

    rows = list(csv.reader(open(f"{d}/truth.csv")))
    expect(rows[0] == ["time", "regime"], f"truth.csv header {rows[0]}")
    rows = rows[1:]
    expect(len(rows) == len(times), f"truth.csv has {len(rows)} days, the files {len(times)}")
    expect([r[0] for r in rows] == [t.strftime("%Y-%m-%dT%H:%M:%S") for t in times],
           "truth.csv times differ from the file times")
    lab = np.array([int(r[1]) for r in rows])
    expect(set(lab.tolist()) == set(range(k)), f"truth.csv regimes {sorted(set(lab.tolist()))}, expected 0..{k - 1}")
    runs = np.diff(np.flatnonzero(np.diff(np.r_[-1, lab, -1]) != 0))
    expect(2.5 < runs.mean() < 10, f"mean regime run {runs.mean():.2f} days, expected about 5")

    # Seasonal regime frequencies: the chain prefers the even regimes in
    # winter and the odd ones in summer (synth.h), so the even regimes
    # together take a clearly larger share of December-February than of
    # June-August.  Without seasonal transition probabilities the two shares
    # differ by a few hundredths only.
    month = np.array([t.month for t in times])
    winter, summer = np.isin(month, [12, 1, 2]), np.isin(month, [6, 7, 8])
    even = lab % 2 == 0
    shift = even[winter].mean() - even[summer].mean()
    expect(shift > 0.15, f"even regimes take {even[winter].mean():.2f} of the winter days and "
           f"{even[summer].mean():.2f} of the summer days: no seasonal preference")

    # Anomalies from a smooth climatology (least squares of mean, trend and
    # three annual harmonics per cell, as --climatology harmonic), each
    # variable scaled to unit variance.
    tau = (np.array([(t - times[0]).days for t in times]) - (len(times) - 1) / 2) / 365.2425
    basis = np.stack([np.ones_like(tau), tau] + [f(2 * np.pi * h * tau) for h in (1, 2, 3) for f in (np.cos, np.sin)], 1)
    z = np.nan_to_num(x.reshape(len(lab), -1))
    z = z - basis @ np.linalg.lstsq(basis, z, rcond=None)[0]
    z = z.reshape(x.shape)
    for v in range(z.shape[1]):
        z[:, v] /= max(z[:, v].std(), 1e-30)
    z = z.reshape(len(lab), -1)

    # Planted regimes: the mean anomalies of different regimes differ far
    # more than two halves of the same regime do, and a nearest-mean
    # classifier fitted on half of the days finds the regime of the other
    # half (chance: 1/K).  Without planted regime patterns both fail.  The
    # noise makes single days ambiguous: the classifier must not be nearly
    # perfect (as it is when the regimes are trivially separable).
    means = np.stack([z[lab == r].mean(0) for r in range(k)])
    between = np.mean([np.sqrt(((means[a] - means[b]) ** 2).mean()) for a in range(k) for b in range(a + 1, k)])
    within = np.mean([np.sqrt(((z[np.flatnonzero(lab == r)[::2]].mean(0)
                                - z[np.flatnonzero(lab == r)[1::2]].mean(0)) ** 2).mean()) for r in range(k)])
    expect(between > 3 * within, f"regime means differ by {between:.3f}, halves of one regime by {within:.3f}")
    fit = (np.arange(len(lab)) // 20) % 2 == 0  # alternate blocks of 20 days: every season in both parts
    centres = np.stack([z[fit & (lab == r)].mean(0) for r in range(k)])
    dist = ((z[:, None, :] - centres[None]) ** 2).sum(-1)  # (T, K)
    acc = (np.argmin(dist[~fit], 1) == lab[~fit]).mean()
    expect(0.5 < acc < 0.95, f"nearest regime mean finds {acc:.2f} of the held-out days, expected 0.5..0.95")

    # Red noise: what the regime means leave over is persistent from one day
    # to the next (AR(1) noise of lag-1 autocorrelation 0.7, plus the
    # intensity of each episode); white noise would give about 0.1.
    resid = z - means[lab]
    same = np.flatnonzero(lab[1:] == lab[:-1])  # pairs of days in one regime
    a, b = resid[same], resid[same + 1]
    r1 = (a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())
    expect(0.5 < r1 < 0.9, f"lag-1 autocorrelation of the anomalies about the regime means {r1:.2f}, expected ~0.7")

    print(f"regimes: between {between:.3f} within {within:.3f} held-out accuracy {acc:.2f} lag-1 {r1:.2f} "
          f"even regimes winter - summer {shift:.2f} mean run {runs.mean():.2f}")


def check_agree(legacy, cdf5, year):
    dl, a = read(f"{legacy}/era5_{year}.nc")
    dc, b = read(f"{cdf5}/era5_{year}.nc")
    expect(set(a) == set(b), "the encodings hold different variables")
    for v in a:
        expect(dl[v].dtype == np.int16 and dc[v].dtype == np.float32, f"{v}: types {dl[v].dtype} {dc[v].dtype}")
        expect(np.array_equal(np.ma.getmaskarray(a[v]), np.ma.getmaskarray(b[v])), f"{v}: missing cells differ")
        tol = dl[v].scale_factor / 2 + 1e-6 * np.abs(b[v]).max()
        err = np.abs(a[v] - b[v]).max()
        expect(err <= tol, f"{v}: legacy and cdf5 differ by {err}, more than {tol}")


def check_hourly(daily, sub, year):
    dd, a = read(f"{daily}/era5_{year}.nc")
    ds, b = read(f"{sub}/era5_{year}.nc")
    td, ts = dd["time"][:], ds["time"][:]
    n = len(ts) // len(td)
    expect(len(ts) == n * len(td) and n > 1, f"{len(ts)} sub-daily steps for {len(td)} days")
    expect(np.array_equal(ts, td[0] + (24 // n) * np.arange(len(ts))), "sub-daily times are not evenly spaced")
    truth_daily = open(f"{daily}/truth.csv").read()
    expect(truth_daily == open(f"{sub}/truth.csv").read(), "truth.csv differs between daily and sub-daily")
    for v in a:
        steps = b[v].reshape(len(td), n, *b[v].shape[1:])
        expect(steps.std(axis=1).max() > 0 or v == "sp", f"{v}: no change within a day")
        mean = steps.mean(axis=1)
        lo, hi = RANGES[v]
        err = np.abs(mean - a[v]).max()
        expect(err < 1e-3 * (hi - lo), f"{v}: daily mean of the sub-daily steps differs from the daily value by {err}")


def main():
    cmd = sys.argv[1]
    if cmd == "values":
        check_values(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "agree":
        check_agree(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "hourly":
        check_hourly(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(f"unknown check {cmd}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
