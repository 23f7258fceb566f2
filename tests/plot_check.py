#!/usr/bin/env python3
"""plot_check.py - check the pictures of dsc-plot against the run files they came from.

    plot_check.py WHAT RUN_DIR PNG_DIR DPI

WHAT is one of size-<name>, composites, timeline (DPI at least 100, so that a day is
two pixels wide).

    plot_check.py label FILE STEP VALUE | plot_check.py range FILE LAST

write a bad labels.nc for the error checks: one time step's label set to VALUE, or the
label's valid_range set to 0..LAST (a run of LAST + 1 clusters).  Each check prints one line on
failure and exits 1.  The expected pixel sizes and panel positions are the figure geometry
documented at the top of dsc-plot, recomputed here independently; colours are recomputed
from the netCDF files with matplotlib's colour maps.
"""
import struct
import sys

import numpy as np
import netCDF4
import matplotlib
matplotlib.use("Agg")
import matplotlib.image as mpimg
import matplotlib.pyplot as plt


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        sys.exit("%s is not a PNG file" % path)
    return struct.unpack(">II", head[16:24])


def pixel(img, fx, fy):
    """RGB at figure fraction (fx from the left, fy from the bottom)."""
    h, w = img.shape[:2]
    return img[int((1 - fy) * h), int(fx * w), :3]


def close(a, b, tol=0.06):
    return np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))) <= tol


def expected_sizes(run, dpi):
    with netCDF4.Dataset(run + "/composites.nc") as nc:
        k = len(nc.dimensions["cluster"])
        nv = len([v for v in nc.variables if v.endswith("_anomaly")])
    return {"composites": ((1.2 + 2.0 * nv) * dpi, (0.8 + 2.0 * k) * dpi),
            "timeline": (10 * dpi, 4 * dpi), "seasonal": (10 * dpi, 4 * dpi),
            "training": (10 * dpi, 3.2 * dpi), "embedding1": (5 * dpi, 4.5 * dpi),
            "embedding2": (10 * dpi, 4.5 * dpi), "transitions": (6 * dpi, 5 * dpi),
            "durations": (10 * dpi, 4 * dpi)}


def check_transitions(run, pngdir, dpi):
    """Each cell of transitions.png has the colour of its row-normalised probability."""
    img = mpimg.imread(pngdir + "/transitions.png")
    with netCDF4.Dataset(run + "/labels.nc") as nc:
        trans = np.asarray(nc.variables["transitions"][:], float)
    k = trans.shape[0]
    prob = trans / trans.sum(axis=1, keepdims=True)
    W, H = 6.0, 5.0
    side = min(0.7 * W, 0.78 * H)  # the square image inside its axes
    x0, y0 = 0.12 * W + (0.7 * W - side) / 2, 0.12 * H + (0.78 * H - side) / 2
    cs = side / k
    cmap = plt.get_cmap("Blues")
    bad = 0
    for i in range(k):
        for j in range(k):
            fx = (x0 + (j + 0.5) * cs) / W
            fy = (y0 + (k - 1 - i + 0.15) * cs) / H  # below the number in the cell's centre
            got, want = pixel(img, fx, fy), cmap(prob[i, j])[:3]
            if not close(got, want):
                print("transition %d -> %d: colour %s, expected %s for probability %g" % (i, j, np.round(got, 3),
                                                                                        np.round(want, 3), prob[i, j]))
                bad += 1
    return bad


def check_composites(run, pngdir, dpi):
    img = mpimg.imread(pngdir + "/composites.png")
    with netCDF4.Dataset(run + "/composites.nc") as nc:
        names = [v[:-len("_anomaly")] for v in nc.variables if v.endswith("_anomaly")]
        fields = [np.ma.filled(nc.variables[v + "_anomaly"][:].astype(float), np.nan) for v in names]
    k, ny, nx = fields[0].shape
    if ny % 2 == 0 or nx % 2 == 0:
        sys.exit("use an odd grid so that a panel's centre is one cell")
    W, H = 1.2 + 2.0 * len(names), 0.8 + 2.0 * k
    left, bottom, w, h = 0.6 / W, 0.5 / H, 2.0 / W, 2.0 / H
    cmap = plt.get_cmap("RdBu_r")
    bad = 0
    for j, data in enumerate(fields):
        vmax = np.nanmax(np.abs(data))
        for c in range(k):
            value = data[c, ny // 2, nx // 2]
            if not np.isfinite(value):
                continue
            want = cmap(0.5 + 0.5 * value / vmax)[:3]
            fx = left + j * w + 0.05 * w + 0.45 * w
            fy = bottom + (k - 1 - c) * h + 0.12 * h + 0.36 * h
            got = pixel(img, fx, fy)
            if not close(got, want):
                print("cluster %d %s: centre colour %s, expected %s for anomaly %g of %g" %
                      (c, names[j], np.round(got, 3), np.round(want, 3), value, vmax))
                bad += 1
    return bad


def check_timeline(run, pngdir, dpi):
    img = mpimg.imread(pngdir + "/timeline.png")
    with netCDF4.Dataset(run + "/labels.nc") as nc:
        lab = np.asarray(nc.variables["label"][:], dtype=int)
        t = nc.variables["time"]
        dates = netCDF4.num2date(t[:], t.units, getattr(t, "calendar", "standard"))
    years = sorted({d.year for d in dates})
    colors = plt.get_cmap("tab10")
    bad = checked = 0
    for i in range(1, len(lab) - 1):
        if lab[i - 1] == lab[i] or lab[i + 1] != lab[i] or dates[i].year != dates[i - 1].year:
            continue  # the first day of a run of two or more: a day too early or late shows another colour
        d = dates[i]
        row = years.index(d.year)
        doy = d.timetuple().tm_yday
        fx = 0.08 + 0.78 * (doy - 0.5 + 0.5) / 366.0
        fy = 0.15 + 0.72 * (1 - (row + 0.5) / len(years))
        got = pixel(img, fx, fy)
        checked += 1
        if not close(got, colors(lab[i] % 10)[:3]):
            print("%s: colour %s, expected cluster %d" % (d, np.round(got, 3), lab[i]))
            bad += 1
    if checked < 10:
        print("only %d time steps checked" % checked)
        bad += 1
    return bad


def edit_labels(what, path, args):
    with netCDF4.Dataset(path, "a") as nc:
        var = nc.variables["label"]
        var.set_auto_mask(False)
        if what == "label":
            var[int(args[0])] = int(args[1])
        else:
            var.valid_range = np.array([0, int(args[0])], dtype=np.int32)
    return 0


def main():
    if sys.argv[1] in ("label", "range"):
        return edit_labels(sys.argv[1], sys.argv[2], sys.argv[3:])
    what, run, pngdir, dpi = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if what.startswith("size-"):
        name = what[5:]
        want = expected_sizes(run, dpi)[name]
        got = png_size(pngdir + "/" + name.rstrip("12") + ".png")
        if got != (round(want[0]), round(want[1])):
            sys.exit("%s.png is %dx%d pixels, expected %dx%d" % (name, got[0], got[1], want[0], want[1]))
        img = mpimg.imread(pngdir + "/" + name.rstrip("12") + ".png")
        colours = len(np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0))
        if colours < 8:
            sys.exit("%s.png has only %d colours: nothing drawn" % (name, colours))
        return 0
    bad = {"composites": check_composites, "timeline": check_timeline, "transitions": check_transitions}[what](run, pngdir, dpi)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
