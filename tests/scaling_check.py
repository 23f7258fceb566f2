"""scaling_check.py - checks the CSV of jobscripts/scaling.sh for tests/jobscripts_jobs.sh.

  scaling_check.py CSV OUTDIR COMMAND MODE:RANKS:YEARS:TIME_STEPS...

The CSV holds exactly one row per MODE:RANKS:YEARS:TIME_STEPS given, in that
order, with the columns of scaling.sbatch; threads is 1; samples_per_s and
wall_s are positive; every PHASE_s column equals (to 4 decimals) the
"timings" entry of the run's metrics.json (OUTDIR/COMMAND-MODE-RANKS/, the
slowest rank for train) and the phases are those of metrics.json, in its
order; job_id is a number.  Exits non-zero with a message on any failure.
"""
import csv
import json
import sys


def main(path, outdir, command, expected):
    with open(path) as f:
        rows = list(csv.reader(f))
    head, rows = rows[0], rows[1:]
    fixed = ["mode", "command", "ranks", "threads", "years", "time_steps", "wall_s", "samples_per_s"]
    if head[:len(fixed)] != fixed or head[-1] != "job_id":
        raise SystemExit(f"{path}: header {head}")
    if len(rows) != len(expected):
        raise SystemExit(f"{path}: {len(rows)} rows, expected {len(expected)}")
    for row, exp in zip(rows, expected):
        if len(row) != len(head):
            raise SystemExit(f"{path}: row {row} has {len(row)} fields, the header {len(head)}")
        r = dict(zip(head, row))
        mode, ranks, years, steps = exp.split(":")
        got = (r["mode"], r["command"], r["ranks"], r["threads"], r["years"], r["time_steps"])
        if got != (mode, command, ranks, "1", years, steps):
            raise SystemExit(f"{path}: row {row}, expected {mode},{command},{ranks},1,{years},{steps}")
        if not (float(r["wall_s"]) > 0 and float(r["samples_per_s"]) > 0 and r["job_id"].isdigit()):
            raise SystemExit(f"{path}: row {row}: wall_s, samples_per_s or job_id")
        run = f"{outdir}/{command}-{mode}-{ranks}"
        m = json.load(open(f"{run}/eval.json" if command == "eval" else f"{run}/metrics.json"))
        timings = m["timings"]
        phases = [h[:-2] for h in head[len(fixed):-1]]
        if phases != list(timings):
            raise SystemExit(f"{path}: phases {phases}, metrics.json has {list(timings)}")
        for p in phases:
            t = timings[p]["max"] if isinstance(timings[p], dict) else timings[p]
            if abs(float(r[p + "_s"]) - t) > 6e-5:
                raise SystemExit(f"{path}: {p}_s = {r[p + '_s']}, metrics.json of {run}: {t}")
        if m.get("ranks", int(ranks)) != int(ranks):
            raise SystemExit(f"{run}: ran on {m['ranks']} ranks, the row says {ranks}")


if __name__ == "__main__":
    if len(sys.argv) < 5:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
