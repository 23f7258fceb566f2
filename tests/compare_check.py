#!/usr/bin/env python3
"""compare_check.py - dsc compare's tables against the runs they summarise.

    compare_check.py DIR SEEDS METHOD[:RUNS] ...   (RUNS defaults to SEEDS; 1 for a deterministic method)

Checks that compare.csv has one row per method with the documented columns; that the
mean, standard deviation and best of every metric follow from the per-run values; and
that the per-run scores equal what each run's own metrics.json reports in the same space
(k-means on raw data scores itself on the raw matrix, k-means on anomalies on the
anomaly matrix), so the scoring reads the right labels and the right data; and
that every network method trained its own variant (dec: --variant dec).
"""
import csv
import json
import math
import sys

d, seeds = sys.argv[1], int(sys.argv[2])
nruns = {a.split(":")[0]: int(a.split(":")[1]) if ":" in a else seeds for a in sys.argv[3:]}
methods = list(nruns)
rows = {r["method"]: r for r in csv.DictReader(open(d + "/compare.csv"))}
bad = []
if sorted(rows) != sorted(methods):
    bad.append("methods %s, expected %s" % (sorted(rows), sorted(methods)))
cols = ["raw_silhouette", "raw_davies_bouldin", "anomaly_silhouette", "anomaly_davies_bouldin", "ari", "nmi", "time_s"]
head = list(next(iter(rows.values())).keys()) if rows else []
want = ["method", "runs"] + [c + s for c in cols for s in ("_mean", "_std", "_best")]
if head != want:
    bad.append("columns %s, expected %s" % (head, want))
for m in methods:
    r = rows.get(m)
    if r is None:
        continue
    if int(r["runs"]) != nruns[m]:
        bad.append("%s: %s runs, expected %d" % (m, r["runs"], nruns[m]))
    own = [json.load(open("%s/runs/%s/seed%d/metrics.json" % (d, m, s))) for s in range(1, nruns[m] + 1)]
    # the run's own metric in its own space, and the compare value of that space
    space = "anomaly" if m.endswith("anomalies") or m.startswith(("eof", "cosine")) else "raw"
    if m == "cosine-kmeans" and any(o.get("cosine") is not True for o in own):
        bad.append("cosine-kmeans: a run without --cosine")
    if m.startswith(("kmeans", "eof", "ward", "cosine")):  # these score themselves on the same matrix
        for key, col, larger in (("silhouette", space + "_silhouette", True), ("davies_bouldin", space + "_davies_bouldin", False),
                                 ("ari", "ari", True), ("nmi", "nmi", True)):
            v = [o[key] for o in own]
            mean = sum(v) / len(v)
            sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
            best = max(v) if larger else min(v)
            for suffix, x in (("_mean", mean), ("_std", sd), ("_best", best)):
                got = float(r[col + suffix])
                if abs(got - x) > 1e-5 * max(1.0, abs(x)):
                    bad.append("%s %s%s: %g in compare.csv, %g from the runs' metrics.json" % (m, col, suffix, got, x))
    else:  # a network run: ARI/NMI in compare equal the run's own (labels vs truth do not depend on the space)
        variant = {"dsc": "cnn-lstm-autoencoder", "dsc-anomalies": "cnn-lstm-autoencoder", "dsc-steps": "cnn-lstm-autoencoder"}.get(m, m)
        if any(o.get("variant") != variant for o in own):
            bad.append("%s: the runs trained variants %s, expected %s" % (m, [o.get("variant") for o in own], variant))
        v = [o["ari"] for o in own]
        mean = sum(v) / len(v)
        if abs(float(r["ari_mean"]) - mean) > 1e-5:
            bad.append("%s ari_mean: %s in compare.csv, %g from the runs" % (m, r["ari_mean"], mean))
    for c in cols:
        x = r[c + "_mean"]
        if x == "" or not math.isfinite(float(x)):
            bad.append("%s %s_mean is empty" % (m, c))
md = open(d + "/compare.md").read()
for m in methods:
    if "| %s | %d |" % (m, nruns[m]) not in md:
        bad.append("compare.md has no row for %s" % m)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
