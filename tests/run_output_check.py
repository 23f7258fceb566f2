"""Checks the run outputs written by tests/test_run_output against numpy.

  run_output_check.py OUTDIR K FILES...

FILES are the ERA5 files test_run_output read; the labels, soft
assignments, latent features, centroids and missing values it made up are
recomputed here from the rules in tests/test_run_output.c.  Checks:
every variable has units and long_name, the global attributes, the time
coordinate (the input's times), labels.csv = labels.nc, the composite means
= numpy means of the raw data per cluster (skipping missing values) to 1e-5
relative, anomalies = mean minus the mean over all time steps, counts,
_FillValue where a cluster has no valid value.  Prints one line per failed
check and exits 1 if any failed.
"""
import datetime
import sys
import warnings

import netCDF4
import numpy as np

LATENT, FEATURES = 5, 4
RTOL = 1e-5
EPOCH = datetime.datetime(1900, 1, 1)
failures = []


def expect(ok, what):
    if not ok:
        failures.append(what)
        print("# FAILED: " + what)


def read_inputs(files):
    """Raw values (T, V, Y, X) as float32 (the reader's type), NaN = missing,
    in time order, with the hours since 1900-01-01, variable names, units,
    long names and the grid."""
    fields, hours, names, meta = [], [], None, {}
    for path in files:
        with netCDF4.Dataset(path) as ds:
            tvar = ds.variables["time"]
            dates = netCDF4.num2date(tvar[:], tvar.units, calendar=getattr(tvar, "calendar", "standard"),
                                     only_use_cftime_datetimes=True)
            hours += [(datetime.datetime(d.year, d.month, d.day, d.hour) - EPOCH).total_seconds() / 3600 for d in dates]
            names = [n for n, v in ds.variables.items() if v.dimensions == ("time", "latitude", "longitude")]
            for n in names:
                meta[n] = (ds.variables[n].units, ds.variables[n].long_name)
            fields.append(np.stack([np.ma.filled(ds.variables[n][:].astype(np.float64), np.nan) for n in names], axis=1))
            lat, lon = ds.variables["latitude"][:], ds.variables["longitude"][:]
    x = np.concatenate(fields).astype(np.float32)
    order = np.argsort(hours)
    return x[order], np.array(hours)[order], names, meta, np.asarray(lat), np.asarray(lon)


def check_attributes(ds, name):
    expect(getattr(ds, "Conventions", None) == "CF-1.8", f"{name}: Conventions = CF-1.8")
    expect("dsc" in getattr(ds, "history", "") and "dsc" in getattr(ds, "source", ""), f"{name}: history and source name dsc")
    for vname, var in ds.variables.items():
        expect(hasattr(var, "units") and hasattr(var, "long_name"), f"{name}: {vname} has units and long_name")


def check_time(ds, name, hours):
    t = ds.variables["time"]
    expect(t.units == "hours since 1900-01-01 00:00:00", f"{name}: time units")
    expect(t.calendar in ("proleptic_gregorian", "standard", "gregorian"), f"{name}: time calendar")
    expect(t.dimensions == ("time",) and np.array_equal(t[:], hours), f"{name}: time = the input's times")
    dates = netCDF4.num2date(t[:], t.units, calendar=t.calendar, only_use_cftime_datetimes=False)
    return [d.strftime("%Y-%m-%dT%H:%M:%S") for d in dates]


def main():
    warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of cells without valid values
    out, k, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    x, hours, names, meta, lat, lon = read_inputs(files)
    t_steps, nvars, ny, nx = x.shape
    t = np.arange(t_steps)
    labels = (t + t // 7) % (k - 1)
    w = 1.0 + (t[:, None] + 2 * np.arange(k)[None, :]) % 5
    q = w / w.sum(axis=1, keepdims=True)
    z = (((t[:, None] * 31 + 7 * np.arange(LATENT)[None, :]) % 1000).astype(np.float32) / np.float32(1000))
    centroids = 10.0 * np.arange(k)[:, None] + np.arange(FEATURES)[None, :] + 0.25
    vmiss = 1 if nvars > 1 else 0
    cell = np.arange(ny * nx).reshape(ny, nx)
    x[:, vmiss][(t[:, None, None] + cell[None]) % 11 == 0] = np.nan

    with netCDF4.Dataset(f"{out}/labels.nc") as ds:
        check_attributes(ds, "labels.nc")
        iso = check_time(ds, "labels.nc", hours)
        got = ds.variables["label"][:]
        expect(np.array_equal(got, labels), "labels.nc: label = the labels given")
        expect(np.allclose(ds.variables["q"][:], q, rtol=1e-6, atol=0), "labels.nc: q = the soft assignments given")
        expect(ds.variables["q"].dimensions == ("time", "cluster"), "labels.nc: q(time, cluster)")
    rows = [line.strip().split(",") for line in open(f"{out}/labels.csv")]
    expect(rows[0] == ["time", "label"], "labels.csv: header time,label")
    expect([r[0] for r in rows[1:]] == iso, "labels.csv: times = labels.nc times")
    expect([int(r[1]) for r in rows[1:]] == list(got), "labels.csv: labels = labels.nc labels")

    with netCDF4.Dataset(f"{out}/latent.nc") as ds:
        check_attributes(ds, "latent.nc")
        check_time(ds, "latent.nc", hours)
        zz = ds.variables["z"]
        expect(zz.dimensions == ("time", "latent") and zz.dtype == np.float32, "latent.nc: z(time, latent) float")
        expect(np.array_equal(zz[:], z), "latent.nc: z = the latent features of every rank, bit for bit")

    with netCDF4.Dataset(f"{out}/centroids.nc") as ds:
        check_attributes(ds, "centroids.nc")
        c = ds.variables["centroid"]
        expect(c.dimensions == ("cluster", "feature") and np.array_equal(c[:], centroids), "centroids.nc: centroid values")
        expect(c.feature_space == "latent", "centroids.nc: feature_space")

    with netCDF4.Dataset(f"{out}/composites.nc") as ds:
        check_attributes(ds, "composites.nc")
        expect(ds.variables["latitude"].units == "degrees_north" and np.allclose(ds.variables["latitude"][:], lat),
               "composites.nc: latitude")
        expect(ds.variables["longitude"].units == "degrees_east" and np.allclose(ds.variables["longitude"][:], lon),
               "composites.nc: longitude")
        expect(np.array_equal(ds.variables["count"][:], np.bincount(labels, minlength=k)), "composites.nc: count")
        for v, name in enumerate(names):
            mean_var, anom_var = ds.variables[name + "_mean"], ds.variables[name + "_anomaly"]
            for var in (mean_var, anom_var):
                expect(var.units == meta[name][0], f"composites.nc: {var.name} units = {meta[name][0]}")
                expect(meta[name][1] in var.long_name, f"composites.nc: {var.name} long_name names {meta[name][1]}")
                expect(var.dimensions == ("cluster", "latitude", "longitude"), f"composites.nc: {var.name} dimensions")
                expect(hasattr(var, "_FillValue"), f"composites.nc: {var.name} has _FillValue")
            got_mean, got_anom = mean_var[:], anom_var[:]
            data = x[:, v].astype(np.float64)
            scale = np.nanmax(np.abs(data))
            with np.errstate(invalid="ignore"):
                overall = np.nanmean(data, axis=0)
                for c in range(k):
                    member = data[labels == c]
                    nvalid = np.sum(~np.isnan(member), axis=0) if len(member) else np.zeros((ny, nx))
                    want = np.nanmean(member, axis=0) if len(member) else np.full((ny, nx), np.nan)
                    empty = nvalid == 0
                    gm, ga = np.ma.getmaskarray(got_mean[c]), np.ma.getmaskarray(got_anom[c])
                    expect(np.array_equal(gm, empty) and np.array_equal(ga, empty),
                           f"composites.nc: {name} cluster {c}: _FillValue exactly where no value is valid "
                           f"({int(empty.sum())} cells)")
                    ok = ~empty & ~gm
                    gmv = np.ma.getdata(got_mean[c])[ok]
                    expect(np.all(np.abs(gmv - want[ok]) <= RTOL * np.abs(want[ok])),
                           f"composites.nc: {name}_mean cluster {c} = numpy mean to {RTOL} relative "
                           f"(max diff {np.max(np.abs(gmv - want[ok]), initial=0):.3g})")
                    gav = np.ma.getdata(got_anom[c])[ok]
                    wav = want[ok] - overall[ok]
                    expect(np.all(np.abs(gav - wav) <= RTOL * np.abs(wav) + 1e-6 * scale),
                           f"composites.nc: {name}_anomaly cluster {c} = mean - mean of all time steps "
                           f"(max diff {np.max(np.abs(gav - wav), initial=0):.3g})")
    print(f"# {len(failures)} failed checks")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
