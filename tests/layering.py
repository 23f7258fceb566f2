#!/usr/bin/env python3
"""layering.py - the house rules of src/, checked from the sources.

    layering.py stages SRC INCLUDE     include arrows point down the stages
    layering.py circles SRC INCLUDE    no include circle between modules
    layering.py lengths SRC            no function over 120 lines (but the listed ones)
    layering.py folders SRC            every source file in a stage folder
    layering.py map SRC HOUSE TESTS    doc/house.md names every source file and every
                                       test, and every file it names exists

Stages, top to bottom: cmd -> cluster -> run -> {data, nn, metrics} -> core.
A file may include headers of its own stage and of stages below; data, nn and
metrics are side by side and do not include each other.  A header belongs to the
stage of the source file of the same name (include/kmeans.h: src/cluster/kmeans.c),
to the folder it lies in (a private header src/nn/model_impl.h), or to HEADER_STAGE.
A module is a source file with its header (kmeans.c + kmeans.h); modules must not
include each other in a circle.
"""
import glob
import os
import re
import sys

RANK = {"core": 0, "data": 1, "nn": 1, "metrics": 1, "run": 2, "cluster": 3, "cmd": 4}
# headers with no source file of the same name
HEADER_STAGE = {
    "config.h": "core", "partition.h": "core", "layers.h": "nn", "metrics.h": "metrics",
    "clustering.h": "cluster", "commands.h": "cmd", "era5_reader.h": "data", "era5_catalog.h": "data",
}
MAX_LINES = 120
# functions allowed to be longer, with the reason
LONG_OK = {
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(src):
    return sorted(glob.glob(os.path.join(src, "**", "*.[ch]"), recursive=True))


def header_stage(name, src):
    base = name[:-2]
    for path in glob.glob(os.path.join(src, "*", base + ".c")) + glob.glob(os.path.join(src, "*", name)):
        return os.path.basename(os.path.dirname(path))
    return HEADER_STAGE.get(name)


def file_stage(path, src):
    rel = os.path.relpath(path, src)
    if not rel.startswith(".." + os.sep) and os.sep in rel:
        return rel.split(os.sep)[0]
    return header_stage(os.path.basename(path), src)


def includes(path):
    with open(path, errors="replace") as f:
        return INCLUDE.findall(f.read())


def check_stages(src, inc):
    bad = []
    files = sources(src) + sorted(glob.glob(os.path.join(inc, "*.h")))
    for path in files:
        mine = file_stage(path, src)
        if mine not in RANK:
            bad.append(f"{path}: in no stage (put it in a folder of src/ or name it in HEADER_STAGE)")
            continue
        for h in includes(path):
            theirs = header_stage(h, src)
            if theirs is None:
                bad.append(f"{path}: includes {h}, which belongs to no stage")
            elif theirs != mine and RANK[theirs] >= RANK[mine]:
                bad.append(f"{path} ({mine}) includes {h} ({theirs}): an arrow up or sideways")
    return bad


def check_circles(src, inc):
    graph = {}
    for path in sources(src) + sorted(glob.glob(os.path.join(inc, "*.h"))):
        mod = os.path.basename(path)[:-2]
        graph.setdefault(mod, set()).update(h[:-2] for h in includes(path) if h[:-2] != mod)
    bad, state = [], {}

    def visit(m, trail):
        state[m] = 1
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                bad.append("include circle: " + " -> ".join(trail[trail.index(n):] + [n]))
            elif n not in state:
                visit(n, trail + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return bad


def check_lengths(src):
    bad = []
    for path in sorted(glob.glob(os.path.join(src, "**", "*.c"), recursive=True)):
        lines = open(path, errors="replace").read().split("\n")
        i = 0
        while i < len(lines):
            m = re.match(r"^[A-Za-z_][^;=]*?\b([A-Za-z_]\w*)\s*\(", lines[i])
            if m and not lines[i].startswith(("typedef", "#")) and not lines[i].rstrip().endswith(";"):
                j = i
                while j < len(lines) and lines[j] != "{" and not lines[j].endswith(";"):
                    j += 1
                if j < len(lines) and lines[j] == "{":
                    k = j + 1
                    while k < len(lines) and lines[k] != "}":
                        k += 1
                    n = k - i + 1
                    name = m.group(1)
                    if n > MAX_LINES and name not in LONG_OK:
                        bad.append(f"{path}: {name} is {n} lines (at most {MAX_LINES})")
                    i = k
            i += 1
    return bad


def check_folders(src):
    loose = glob.glob(os.path.join(src, "*.[ch]"))
    stray = [p for p in glob.glob(os.path.join(src, "*", "*.[ch]"))
             if os.path.basename(os.path.dirname(p)) not in RANK]
    return [f"{p}: not in a stage folder" for p in sorted(loose + stray)]


def check_map(src, house, tests):
    text = open(house).read()
    named = set(re.findall(r"`(?:src/[a-z]+/|tests/)?([A-Za-z0-9_-]+\.(?:c|h|sh|py|in))`", text))
    bad = []
    for path in sorted(glob.glob(os.path.join(src, "*", "*.[ch]")) + glob.glob(os.path.join(src, "*", "*.in"))):
        if os.path.basename(path) not in named and not path.endswith(".h"):
            bad.append(f"{house}: does not name {os.path.relpath(path, os.path.dirname(src))}")
    for path in sorted(glob.glob(os.path.join(tests, "*.sh")) + glob.glob(os.path.join(tests, "test_*.c"))):
        name = os.path.basename(path)
        if name not in named and name not in ("tap.sh", "testenv.sh") and not name.endswith("_helpers.sh") \
                and name not in ("slurm_cluster.sh",):
            bad.append(f"{house}: does not say where the test {name} belongs")
    have = {os.path.basename(p) for p in glob.glob(os.path.join(src, "**", "*"), recursive=True)}
    have |= {os.path.basename(p) for p in glob.glob(os.path.join(tests, "**", "*"), recursive=True)}
    have |= {os.path.basename(p) for p in glob.glob(os.path.join(os.path.dirname(src), "include", "*.h"))}
    for name in sorted(named):
        if name not in have and "NAME" not in name:
            bad.append(f"{house}: names {name}, which does not exist")
    return bad


def main():
    what = sys.argv[1]
    if what == "stages":
        bad = check_stages(sys.argv[2], sys.argv[3])
    elif what == "circles":
        bad = check_circles(sys.argv[2], sys.argv[3])
    elif what == "lengths":
        bad = check_lengths(sys.argv[2])
    elif what == "folders":
        bad = check_folders(sys.argv[2])
    elif what == "map":
        bad = check_map(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"usage: {sys.argv[0]} stages|circles|lengths|folders|map SRC [INCLUDE | HOUSE TESTS]")
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
