#!/usr/bin/env python3
"""info_twin.py - dsc info --json against netCDF4-python on the same files.

    info_twin.py INFO.json FILE...

For files without an expver dimension and without --box/--time-range/
--daily-mean: the grid size, the time axis (decoded by cftime, sorted,
duplicates dropped) and, per variable, the number of masked values
(_FillValue, missing_value, NaN) must agree exactly.
"""
import json
import sys

import netCDF4
import numpy as np


def main(argv):
    info = json.load(open(argv[1]))
    times = set()
    missing = {}
    shape = None
    for path in argv[2:]:
        with netCDF4.Dataset(path) as d:
            tname = next(n for n in ("time", "valid_time", "t") if n in d.variables)
            t = d.variables[tname]
            for v in netCDF4.num2date(t[:], t.units, getattr(t, "calendar", "standard")):
                times.add("%04d-%02d-%02dT%02d:%02d:%02d" % (v.year, v.month, v.day, v.hour, v.minute, v.second))
            for var in info["variables"]:
                x = d.variables[var["nc_name"]]
                x.set_auto_maskandscale(True)
                data = np.ma.masked_invalid(x[:])
                missing[var["name"]] = missing.get(var["name"], 0) + int(np.ma.count_masked(data))
                shape = data.shape[1:]
    times = sorted(times)
    bad = []
    if info["time"]["count"] != len(times):
        bad.append("time count %d, netCDF4 %d" % (info["time"]["count"], len(times)))
    if info["time"]["first"] != times[0] or info["time"]["last"] != times[-1]:
        bad.append("time %s..%s, netCDF4 %s..%s" % (info["time"]["first"], info["time"]["last"], times[0], times[-1]))
    if (info["grid"]["nlat"], info["grid"]["nlon"]) != tuple(shape):
        bad.append("grid %dx%d, netCDF4 %s" % (info["grid"]["nlat"], info["grid"]["nlon"], shape))
    for var in info["variables"]:
        if var["missing"] != missing[var["name"]]:
            bad.append("%s: %d missing, netCDF4 %d" % (var["name"], var["missing"], missing[var["name"]]))
    for b in bad:
        print(b)
    print("checked %d variables, %d times" % (len(info["variables"]), len(times)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
