#!/usr/bin/env python3
"""regime_stats_check.py - the "regimes" key of metrics.json (and the
life-cycle variables of labels.nc) against numpy, from labels.csv alone.

    regime_stats_check.py METRICS.json LABELS.csv [LABELS.nc] [--ignore-gaps]

An episode is a maximal run of one label inside a segment of the record: a
spacing of the times above 1.5 steps (the most common spacing) is a gap and
ends the episode.  Durations are steps x step length in days; month
frequencies are shares of each calendar month's steps; transitions count the
pairs of consecutive steps inside a segment.  Labels are encoded 0..K-1 in
the order of their values (as dsc eval does).  --ignore-gaps computes the
same without the gap rule, and then exits 0 only when that DISAGREES with
the files: the data set has a gap that matters, so the check can fail.
"""
import csv
import datetime as dt
import json
import sys

import numpy as np


def read_labels(path):
    times, labels = [], []
    with open(path) as f:
        for row in csv.reader(f):
            if not row or row[0].startswith("#") or row[0] == "time":
                continue
            times.append(dt.datetime.fromisoformat(row[0].replace("Z", "")))
            labels.append(int(row[1]))
    values = np.unique(labels)
    return times, np.searchsorted(values, labels), len(values)


def stats(times, lab, K, gaps=True):
    hours = np.array([(t - times[0]).total_seconds() / 3600.0 for t in times])
    d = np.diff(hours)
    vals, counts = np.unique(np.round(d * 3600).astype(np.int64), return_counts=True)
    step = vals[np.argmax(counts)] / 3600.0  # the most common spacing
    limit = 24 * 32 if step >= 24 * 27 else 1.5 * step
    new_seg = np.concatenate([[True], d > limit + 1e-6]) if gaps else np.r_[True, np.zeros(len(d), bool)]
    per_day = 24.0 / step
    month = np.array([t.month for t in times])
    freq = np.full((12, K), np.nan)
    for m in range(12):
        sel = month == m + 1
        if sel.any():
            freq[m] = np.bincount(lab[sel], minlength=K) / sel.sum()
    trans = np.zeros((K, K), np.int64)
    inside = ~new_seg[1:]
    np.add.at(trans, (lab[:-1][inside], lab[1:][inside]), 1)
    starts = np.flatnonzero(new_seg | np.r_[True, lab[1:] != lab[:-1]])
    lengths = np.diff(np.r_[starts, len(lab)])
    elab = lab[starts]
    days = lengths / per_day
    per = []
    for k in range(K):
        dk = days[elab == k]
        per.append((len(dk), dk.mean() if len(dk) else np.nan, np.median(dk) if len(dk) else np.nan))
    return dict(freq=freq, trans=trans, starts=starts, days=days, elab=elab, per=per,
                mean=days.mean(), median=np.median(days), n=len(days))


def close(a, b):
    a = np.array(a, dtype=float)
    b = np.array(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)


def compare(ref, js, nc_path):
    bad = []
    r = js["regimes"]
    if r["episodes"] != ref["n"]: bad.append("episodes %s != %s" % (r["episodes"], ref["n"]))
    if not close(r["mean_episode_days"], ref["mean"]): bad.append("mean_episode_days")
    if not close(r["median_episode_days"], ref["median"]): bad.append("median_episode_days")
    pc = [(c["episodes"], np.nan if c["mean_days"] is None else c["mean_days"],
           np.nan if c["median_days"] is None else c["median_days"]) for c in r["per_cluster"]]
    if not close(pc, ref["per"]): bad.append("per_cluster %s != %s" % (pc, ref["per"]))
    mf = [[np.nan] * len(ref["per"]) if row is None else row for row in r["month_frequency"]]
    if not close(mf, ref["freq"]): bad.append("month_frequency")
    if not close(r["transitions"], ref["trans"]): bad.append("transitions")
    keys = list(js)
    if keys.index("regimes") != len(keys) - 2 or keys[-1] != "timings": bad.append("regimes is not just before timings")
    if nc_path:
        import netCDF4
        with netCDF4.Dataset(nc_path) as nc:
            def get(name):
                v = nc.variables[name][:]
                return np.ma.filled(np.ma.asarray(v).astype(float), np.nan)
            if not close(get("month_frequency"), ref["freq"]): bad.append("labels.nc month_frequency")
            if not close(get("transitions"), ref["trans"]): bad.append("labels.nc transitions")
            if not close(get("episodes"), [p[0] for p in ref["per"]]): bad.append("labels.nc episodes")
            if not close(get("episode_mean_days"), [p[1] for p in ref["per"]]): bad.append("labels.nc episode_mean_days")
            if not close(get("episode_median_days"), [p[2] for p in ref["per"]]): bad.append("labels.nc episode_median_days")
            if not close(get("episode_start"), ref["starts"]): bad.append("labels.nc episode_start")
            if not close(get("episode_days"), ref["days"]): bad.append("labels.nc episode_days")
            if not close(get("episode_label"), ref["elab"]): bad.append("labels.nc episode_label")
            if not close(get("month"), np.arange(1, 13)): bad.append("labels.nc month")
            for name, units in (("month_frequency", "1"), ("transitions", "1"), ("episode_mean_days", "days"),
                                ("episode_median_days", "days"), ("episodes", "1"), ("episode_days", "days")):
                v = nc.variables[name]
                if v.units != units or not v.long_name: bad.append("labels.nc %s attributes" % name)
            if nc.variables["transitions"].dimensions != ("cluster", "cluster_to"): bad.append("transitions dims")
            if nc.variables["month_frequency"].dimensions != ("month", "cluster"): bad.append("month_frequency dims")
    return bad


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    ignore_gaps = "--ignore-gaps" in sys.argv
    js = json.load(open(args[0]))
    times, lab, K = read_labels(args[1])
    ref = stats(times, lab, K, gaps=not ignore_gaps)
    bad = compare(ref, js, args[2] if len(args) > 2 else None)
    if ignore_gaps:
        if not bad:
            print("without the gap rule numpy agrees with %s: the data have no gap that matters" % args[0])
            return 1
        print("without the gap rule numpy disagrees, as it must:", ", ".join(bad))
        return 0
    if bad:
        print("regime statistics differ from numpy:", "; ".join(bad))
        return 1
    print("regimes of %s match numpy: %d episodes, mean %.3f days" % (args[0], ref["n"], ref["mean"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
