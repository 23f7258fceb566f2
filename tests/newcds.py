"""newcds.py - rewrite classic ERA5-like files as the new CDS delivers them.

The header follows a new-CDS netCDF download (cfgrib + xarray): netCDF-4/HDF5,
dimension 'valid_time' (int64 seconds since 1970-01-01, proleptic_gregorian),
latitude/longitude double with _FillValue NaN, a scalar int64 'number', a
string variable 'expver(valid_time)', float32 fields with _FillValue NaN, no
packing, zlib level 1 with shuffle.  The values are those netCDF4-python
reads from the input (unpacked, missing values as NaN).

  newcds.py [--split] [--chunk default|step|whole] [--format netcdf4|netcdf4_classic]
            [--zip] [--order REVERSED] [--levels 1000,850,500 [--level-name level]] [--rda] -o DIR FILES...

--split writes one file per GRIB step type, as the CDS does for a request of
instant and accumulated variables: DIR/NAME_instant.nc (sst, sp, t2m, u10,
v10, anything else) and DIR/NAME_accum.nc (sshf, slhf); --zip then packs the
pair into DIR/NAME.nc as a ZIP archive (what the CDS sends).  --chunk:
netcdf-c's default chunking (none given), one chunk per time step, or one
chunk for the whole variable.  --order REVERSED writes the fields in reverse
order (variable order is not meaning).  --levels adds geopotential z on
pressure levels (dimension pressure_level, double hPa, as the new CDS; or
level, int millibars, as the legacy CDS), made from the first field.
--rda writes NCAR RDA ds633.0 analysis files instead: one variable per file
per month (e5.oper.an.sfc.128_167_2t.ll025sc.2001010100_2001013123.nc),
upper-case names (VAR_2T, SSTK, ...), time in hours since 1900; and, from
hourly input, the accumulated fluxes SSHF and SLHF in their forecast layout:
half-month files (e5.oper.fc.sfc.accumu.128_146_sshf.ll025sc.2001010106_2001011606.nc)
of dimensions (forecast_initial_time, forecast_hour, latitude, longitude),
initial times at 06 and 18 UTC from the 1st (16th) 06 UTC on, forecast hours
1..12, the value at (initial time, hour) being the input's value at the
valid time initial time + hour.  Only the files whose every valid time the
input holds are written.
"""
import argparse
import datetime
import os
import zipfile

import netCDF4
import numpy as np

ACCUM = {"sshf", "slhf", "var146", "var147"}


def read_input(path):
    ds = netCDF4.Dataset(path)
    tname = next(n for n in ("time", "valid_time", "t") if n in ds.variables)
    tvar = ds.variables[tname]
    dates = netCDF4.num2date(tvar[:], tvar.units, calendar=getattr(tvar, "calendar", "standard"),
                             only_use_cftime_datetimes=False, only_use_python_datetimes=True)
    lat = np.asarray(ds.variables["latitude"][:], dtype=np.float64)
    lon = np.asarray(ds.variables["longitude"][:], dtype=np.float64)
    fields = {}
    for name, var in ds.variables.items():
        if var.ndim == 3 and var.dimensions[0] == tname:
            var.set_auto_maskandscale(True)
            a = np.ma.filled(np.ma.asarray(var[:]).astype(np.float32), np.nan)
            fields[name] = (a, getattr(var, "units", ""), getattr(var, "long_name", name))
    ds.close()
    return dates, lat, lon, fields


def write(path, dates, lat, lon, fields, names, chunk, fmt, levels=None, level_name="pressure_level"):
    ds = netCDF4.Dataset(path, "w", format=fmt.upper())
    ds.GRIB_centre = "ecmf"
    ds.Conventions = "CF-1.7"
    ds.institution = "European Centre for Medium-Range Weather Forecasts"
    T = len(dates)
    ds.createDimension("valid_time", T)
    ds.createDimension("latitude", lat.size)
    ds.createDimension("longitude", lon.size)
    number = ds.createVariable("number", "i8" if fmt == "netcdf4" else "i4")
    number.long_name = "ensemble member numerical id"
    number.assignValue(0)
    vt = ds.createVariable("valid_time", "i8" if fmt == "netcdf4" else "f8", ("valid_time",))
    vt.long_name = "time"
    vt.standard_name = "time"
    vt.units = "seconds since 1970-01-01"
    vt.calendar = "proleptic_gregorian"
    vt[:] = netCDF4.date2num(dates, vt.units, calendar=vt.calendar)
    la = ds.createVariable("latitude", "f8", ("latitude",), fill_value=np.nan)
    la.units = "degrees_north"
    la.standard_name = "latitude"
    la[:] = lat
    lo = ds.createVariable("longitude", "f8", ("longitude",), fill_value=np.nan)
    lo.units = "degrees_east"
    lo.standard_name = "longitude"
    lo[:] = lon
    if fmt == "netcdf4":  # no strings in the classic model
        ev = ds.createVariable("expver", str, ("valid_time",))
        ev.long_name = "model experiment version"
        for i in range(T):
            ev[i] = "0001" if i < T - 2 else "0005"
    if levels:  # geopotential on pressure levels, made from the first field
        ds.createDimension(level_name, len(levels))
        lv = ds.createVariable(level_name, "f8" if level_name == "pressure_level" else "i4", (level_name,))
        lv.units = "hPa" if level_name == "pressure_level" else "millibars"
        lv.long_name = "pressure" if level_name == "pressure_level" else "pressure_level"
        lv[:] = levels
        a = fields[names[0]][0]
        z = np.stack([a * np.float32(10.0) + np.float32(9.80665 * lev) for lev in levels], axis=1)
        kw = dict(zlib=True, complevel=1, shuffle=True, fill_value=np.float32(np.nan))
        if chunk == "step":
            kw["chunksizes"] = (1, 1, lat.size, lon.size)
        v = ds.createVariable("z", "f4", ("valid_time", level_name, "latitude", "longitude"), **kw)
        v.units = "m**2 s**-2"
        v.long_name = "Geopotential"
        v.set_auto_maskandscale(False)
        v[:] = z
    for name in names:
        a, units, long_name = fields[name]
        kw = dict(zlib=True, complevel=1, shuffle=True, fill_value=np.float32(np.nan))
        if chunk == "step":
            kw["chunksizes"] = (1, lat.size, lon.size)
        elif chunk == "whole":
            kw["chunksizes"] = (T, lat.size, lon.size)
        v = ds.createVariable(name, "f4", ("valid_time", "latitude", "longitude"), **kw)
        v.units = units
        v.long_name = long_name
        v.GRIB_paramId = np.int64(0)
        v.set_auto_maskandscale(False)
        v[:] = a
    ds.close()


RDA = {  # canonical name: (ECMWF parameter, RDA short name, RDA variable name)
    "sst": ("128_034", "sstk", "SSTK"), "sp": ("128_134", "sp", "SP"), "t2m": ("128_167", "2t", "VAR_2T"),
    "u10": ("128_165", "10u", "VAR_10U"), "v10": ("128_166", "10v", "VAR_10V"),
}


def write_rda(outdir, dates, lat, lon, fields):
    """NCAR RDA ds633.0 e5.oper.an.sfc: one variable per file per month,
    upper-case names, time in hours since 1900, compressed netCDF-4."""
    months = sorted({(d.year, d.month) for d in dates})
    for name, (a, units, long_name) in fields.items():
        if name not in RDA:
            continue
        param, short, vname = RDA[name]
        for y, m in months:
            idx = [i for i, d in enumerate(dates) if (d.year, d.month) == (y, m)]
            d0, d1 = dates[idx[0]], dates[idx[-1]]
            path = os.path.join(outdir, f"e5.oper.an.sfc.{param}_{short}.ll025sc.{d0:%Y%m%d%H}_{d1:%Y%m%d}23.nc")
            ds = netCDF4.Dataset(path, "w", format="NETCDF4")
            ds.createDimension("time", len(idx))
            ds.createDimension("latitude", lat.size)
            ds.createDimension("longitude", lon.size)
            t = ds.createVariable("time", "i4", ("time",))
            t.long_name = "time"
            t.units = "hours since 1900-01-01 00:00:00"
            t.calendar = "gregorian"
            t[:] = netCDF4.date2num([dates[i] for i in idx], t.units, calendar=t.calendar)
            la = ds.createVariable("latitude", "f8", ("latitude",))
            la.units = "degrees_north"
            la[:] = lat
            lo = ds.createVariable("longitude", "f8", ("longitude",))
            lo.units = "degrees_east"
            lo[:] = lon
            v = ds.createVariable(vname, "f4", ("time", "latitude", "longitude"), zlib=True, complevel=4, shuffle=True,
                                  chunksizes=(1, lat.size, lon.size))
            v.units = units
            v.long_name = long_name
            v.short_name = short
            v.set_auto_maskandscale(False)
            v[:] = a[idx]
            ds.close()


RDA_FC = {"sshf": ("128_146", "sshf", "SSHF", "Surface sensible heat flux"),
          "slhf": ("128_147", "slhf", "SLHF", "Surface latent heat flux")}


def half_months(dates):
    """The half-month periods [start, end) of initial times around the data:
    from the 1st and the 16th of each month at 06 UTC."""
    first, last = dates[0], dates[-1]
    y, m = first.year, first.month - 1
    if m == 0:
        y, m = y - 1, 12
    out = []
    while (y, m) <= (last.year, last.month):
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        b = [datetime.datetime(y, m, 1, 6), datetime.datetime(y, m, 16, 6), datetime.datetime(ny, nm, 1, 6)]
        out += [(b[0], b[1]), (b[1], b[2])]
        y, m = ny, nm
    return out


def write_rda_fc(outdir, dates, lat, lon, fields):
    """NCAR RDA ds633.0 e5.oper.fc.sfc.accumu: SSHF/SLHF in half-month files,
    (forecast_initial_time, forecast_hour 1..12, latitude, longitude)."""
    index = {d: i for i, d in enumerate(dates)}
    hour = datetime.timedelta(hours=1)
    for name, (a, units, long_name) in fields.items():
        if name not in RDA_FC:
            continue
        param, short, vname, title = RDA_FC[name]
        for start, end in half_months(dates):
            inits = []
            t = start
            while t < end:
                inits.append(t)
                t += 12 * hour
            valid = [[i + h * hour for h in range(1, 13)] for i in inits]
            if not all(v in index for row in valid for v in row):
                continue
            path = os.path.join(outdir, f"e5.oper.fc.sfc.accumu.{param}_{short}.ll025sc.{start:%Y%m%d%H}_{end:%Y%m%d%H}.nc")
            ds = netCDF4.Dataset(path, "w", format="NETCDF4")
            ds.createDimension("forecast_initial_time", len(inits))
            ds.createDimension("forecast_hour", 12)
            ds.createDimension("latitude", lat.size)
            ds.createDimension("longitude", lon.size)
            ti = ds.createVariable("forecast_initial_time", "f8", ("forecast_initial_time",))
            ti.long_name = "forecast_initial_time"
            ti.units = "hours since 1900-01-01 00:00:00"
            ti.calendar = "gregorian"
            ti[:] = netCDF4.date2num(inits, ti.units, calendar=ti.calendar)
            fh = ds.createVariable("forecast_hour", "i4", ("forecast_hour",))
            fh.long_name = "hours since forecast_initial_time"
            fh.units = "hours"
            fh[:] = np.arange(1, 13, dtype=np.int32)
            la = ds.createVariable("latitude", "f8", ("latitude",))
            la.long_name = "latitude"
            la.units = "degrees_north"
            la[:] = lat
            lo = ds.createVariable("longitude", "f8", ("longitude",))
            lo.long_name = "longitude"
            lo.units = "degrees_east"
            lo[:] = lon
            ud = ds.createVariable("utc_date", "i4", ("forecast_initial_time",))
            ud.long_name = "UTC date yyyy-mm-dd hh:00:00 as yyyymmddhh"
            ud.units = "Gregorian_year month day hour"
            ud[:] = np.array([int(f"{i:%Y%m%d%H}") for i in inits], dtype=np.int32)
            v = ds.createVariable(vname, "f4", ("forecast_initial_time", "forecast_hour", "latitude", "longitude"), zlib=True,
                                  complevel=4, shuffle=True, chunksizes=(1, 12, lat.size, lon.size))
            v.long_name = title
            v.short_name = short
            v.units = units
            v.code = np.int32(int(param[4:]))
            v.table = np.int32(128)
            v.set_auto_maskandscale(False)
            v[:] = np.stack([a[[index[x] for x in row]] for row in valid])
            ds.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", required=True)
    ap.add_argument("--split", action="store_true")
    ap.add_argument("--zip", action="store_true")
    ap.add_argument("--chunk", default="default", choices=["default", "step", "whole"])
    ap.add_argument("--format", default="netcdf4", choices=["netcdf4", "netcdf4_classic"])
    ap.add_argument("--order", default="")
    ap.add_argument("--rda", action="store_true", help="NCAR RDA ds633.0 layout: one variable per file per month")
    ap.add_argument("--levels", default="", help="add z on these pressure levels (hPa), e.g. 1000,850,500")
    ap.add_argument("--level-name", default="pressure_level", help="pressure_level (new CDS) or level (legacy CDS)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.o, exist_ok=True)
    for path in args.files:
        dates, lat, lon, fields = read_input(path)
        names = list(fields)
        if args.order == "REVERSED":
            names = names[::-1]
        base = os.path.splitext(os.path.basename(path))[0]
        if args.rda:
            write_rda(args.o, dates, lat, lon, fields)
            write_rda_fc(args.o, dates, lat, lon, fields)
            continue
        levels = [float(x) for x in args.levels.split(",")] if args.levels else None
        if not args.split:
            write(os.path.join(args.o, base + ".nc"), dates, lat, lon, fields, names, args.chunk, args.format,
                  levels, args.level_name)
            continue
        parts = []
        for kind, sel in (("instant", [n for n in names if n not in ACCUM]), ("accum", [n for n in names if n in ACCUM])):
            if sel:
                out = os.path.join(args.o, f"{base}_{kind}.nc")
                write(out, dates, lat, lon, fields, sel, args.chunk, args.format)
                parts.append(out)
        if args.zip:
            with zipfile.ZipFile(os.path.join(args.o, base + ".nc"), "w") as z:
                for p in parts:
                    z.write(p, "data_stream-oper_stepType-" + p.rsplit("_", 1)[1])
                    os.remove(p)


if __name__ == "__main__":
    main()
