#!/usr/bin/env python3
"""compare_check.py - dsc compare's tables against the runs they summarise.

    compare_check.py DIR SEEDS METHOD[:RUNS] ...   (RUNS defaults to SEEDS; 1 for a deterministic method)

Checks that compare.csv has one row per method with the documented columns; that the
mean, standard deviation and best of every metric follow from the per-run values; and
that the per-run scores equal what each run's own metrics.json reports in the same space
(k-means on raw data scores itself on the raw matrix, k-means on anomalies on the
anomaly matrix), so the scoring reads the right labels and the right data; and
that the mean episode length of every run is its metrics.json's "regimes" (best: the
closest to the reference labelling's, which compare.md gives); and
that every network method trained its own variant (dec: --variant dec), and
the runs of a METHOD-persistent row (and only those) had a persistence penalty (DSC's
with the target per time step, or along time for -persistent-target); and
that the command column (and compare.md's methods list) records what the runs
ran: every option of it has that value in each network run's config.txt, and
every run clustered into the K of compare.md.
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
cols = ["raw_silhouette", "raw_davies_bouldin", "anomaly_silhouette", "anomaly_davies_bouldin", "ari", "nmi", "episode_days",
        "time_s"]
head = list(next(iter(rows.values())).keys()) if rows else []
want = ["method", "runs"] + [c + s for c in cols for s in ("_mean", "_std", "_best")] + ["command"]
if head != want:
    bad.append("columns %s, expected %s" % (head, want))
md = open(d + "/compare.md").read()
truth_days = None
if "Mean episode length of the reference labelling: " in md:
    truth_days = float(md.split("Mean episode length of the reference labelling: ", 1)[1].split(" ", 1)[0])
for m in methods:
    r = rows.get(m)
    if r is None:
        continue
    if int(r["runs"]) != nruns[m]:
        bad.append("%s: %s runs, expected %d" % (m, r["runs"], nruns[m]))
    own = [json.load(open("%s/runs/%s/seed%d/metrics.json" % (d, m, s))) for s in range(1, nruns[m] + 1)]
    # the run's own metric in its own space, and the compare value of that space
    base = m.split("-persistent")[0]  # the method without its penalty
    space = "anomaly" if base.endswith("anomalies") or base.startswith(("eof", "cosine")) else "raw"
    if base == "cosine-kmeans" and any(o.get("cosine") is not True for o in own):
        bad.append("%s: a run without --cosine" % m)
    if any(("persistence" in o) != (base != m) for o in own):  # the -persistent methods alone have the key
        bad.append("%s: runs %s the persistence key in metrics.json" % (m, "without" if base != m else "with"))
    elif base.startswith("dsc") and base != m:  # -persistent-target trained on the target along time, -persistent not
        want = "along time" if m.endswith("-target") else "per time step"
        if any(o["persistence"].get("target") != want for o in own):
            bad.append("%s: a run whose target was not %s" % (m, want))
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
        variant = {"dsc": "cnn-lstm-autoencoder", "dsc-anomalies": "cnn-lstm-autoencoder", "dsc-steps": "cnn-lstm-autoencoder"}.get(base, base)
        if any(o.get("variant") != variant for o in own):
            bad.append("%s: the runs trained variants %s, expected %s" % (m, [o.get("variant") for o in own], variant))
        v = [o["ari"] for o in own]
        mean = sum(v) / len(v)
        if abs(float(r["ari_mean"]) - mean) > 1e-5:
            bad.append("%s ari_mean: %s in compare.csv, %g from the runs" % (m, r["ari_mean"], mean))
    # the mean episode length of every run equals its own metrics.json; best: the closest to the truth's
    v = [o["regimes"]["mean_episode_days"] for o in own]
    mean = sum(v) / len(v)
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    best = min(v, key=lambda x: abs(x - truth_days)) if truth_days is not None else max(v)
    for suffix, x in (("_mean", mean), ("_std", sd), ("_best", best)):
        got = float(r["episode_days" + suffix])
        if abs(got - x) > 1e-5 * max(1.0, abs(x)):
            bad.append("%s episode_days%s: %g in compare.csv, %g from the runs' metrics.json" % (m, suffix, got, x))
    for c in cols:
        x = r[c + "_mean"]
        if x == "" or not math.isfinite(float(x)):
            bad.append("%s %s_mean is empty" % (m, c))
md = open(d + "/compare.md").read()
K = int(md.split("K = ", 1)[1].split(",", 1)[0])
for m in methods:
    if "| %s | %d |" % (m, nruns[m]) not in md:
        bad.append("compare.md has no row for %s" % m)
    r = rows.get(m)
    if r is None:
        continue
    if "ran `%s`" % r["command"] not in md:
        bad.append("%s: compare.md does not list the command %r" % (m, r["command"]))
    words = r["command"].split()
    if words[:2] not in (["dsc", "train"], ["dsc", "kmeans"], ["dsc", "ward"]) or "-k" not in words:
        bad.append("%s: command %r" % (m, r["command"]))
        continue
    for s in range(1, nruns[m] + 1):
        run = "%s/runs/%s/seed%d/" % (d, m, s)
        if json.load(open(run + "metrics.json"))["n_clusters"] > K:
            bad.append("%s seed %d: more than K = %d clusters" % (m, s, K))
        if words[1] != "train":
            continue
        conf = dict(l.split(" = ", 1) for l in open(run + "config.txt").read().splitlines() if " = " in l and l[0] != "#")
        opts = words[2:]
        for i, w in enumerate(opts):  # --key value pairs and flags, as the command column gives them
            if not w.startswith("-"):
                continue
            key = {"-k": "clusters"}.get(w, w.lstrip("-"))
            value = opts[i + 1] if i + 1 < len(opts) and not opts[i + 1].startswith("-") else "on"
            if conf.get(key) != value:
                bad.append("%s seed %d: %s %s in compare.csv, %s = %s in config.txt" % (m, s, w, value, key, conf.get(key)))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
