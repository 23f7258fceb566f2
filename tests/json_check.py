"""json_check.py - the JSON numbers of dsc (tests/json.sh).

    json_check.py finite FILE      FILE (json_document finite) is JSON with
                                   the figures it was given
    json_check.py nonfinite FILE   FILE (json_document nonfinite) is JSON,
                                   every floating-point figure null
    json_check.py sources DIR...   no printf-family call in DIR/*.c (json.c
                                   aside) prints a floating-point value into
                                   JSON: with a format that holds a key (\\"),
                                   or to a stream its function writes JSON
                                   to; such numbers must go through json.h

The parser refuses NaN, Infinity and -Infinity, which Python's json module
would otherwise accept and no other JSON parser does.  Exits 1 with the
reason when a check fails.
"""
import glob
import json
import os
import re
import sys


def strict_load(path):
    def refuse(name):
        raise ValueError(f"{path}: {name} is not JSON")
    with open(path) as f:
        return json.load(f, parse_constant=refuse)


def floats(d):
    """Every floating-point field of a json_document, as (name, value)."""
    out = [("inertia", d["inertia"]), ("total_variance", d["total_variance"])]
    out += [(f"explained_variance[{i}]", v) for i, v in enumerate(d["explained_variance"])]
    out += [(f"explained_variance_ratio[{i}]", v) for i, v in enumerate(d["explained_variance_ratio"])]
    for k in ("silhouette", "silhouette_cosine", "davies_bouldin", "rmse_mean", "avg_variance",
              "avg_inter_cluster_distance", "ari", "nmi"):
        out.append((k, d[k]))
    out += [(f"inter_cluster_distance[{i}][{j}]", v) for i, row in enumerate(d["inter_cluster_distance"])
            for j, v in enumerate(row)]
    out += [(f"timings.{k}", v) for k, v in d["timings"].items()]
    out += [(f"phase.{k}", v) for k, v in d["phase"].items()]
    out.append(("distance_matrix_bytes", d["distance_matrix_bytes"]))
    return out


def check_finite(path):
    d = strict_load(path)
    want = {"inertia": 1.5, "total_variance": 3.0, "explained_variance[0]": 2.25, "explained_variance[1]": 0.5,
            "explained_variance_ratio[0]": 0.75, "explained_variance_ratio[1]": 0.125, "silhouette": 0.25,
            "silhouette_cosine": -0.5, "davies_bouldin": 0.75, "rmse_mean": 3.0, "avg_variance": 0.0625,
            "avg_inter_cluster_distance": 1.5, "ari": 1.0, "nmi": 0.5, "inter_cluster_distance[0][0]": 0.0,
            "inter_cluster_distance[0][1]": 1.5, "inter_cluster_distance[1][0]": 1.5,
            "inter_cluster_distance[1][1]": 0.0, "timings.read": 0.25, "timings.kmeans": 1.5,
            "timings.write": 0.125, "phase.max": 2.5, "phase.mean": 2.25, "distance_matrix_bytes": 1024}
    got = dict(floats(d))
    wrong = [f"{k}: {got.get(k)!r}, want {v!r}" for k, v in want.items() if got.get(k) != v]
    if set(got) != set(want):
        wrong.append(f"fields {sorted(set(got) ^ set(want))} unexpected or missing")
    if d["cluster_sizes"] != [3, 4]:
        wrong.append(f"cluster_sizes {d['cluster_sizes']}")
    # the stated decimals: timings as %.4f / %.3f, the byte count as %.0f
    text = open(path).read()
    for s in ('"read": 0.2500', '"write": 0.125}', '"max": 2.5000', '"distance_matrix_bytes": 1024\n'):
        if s not in text:
            wrong.append(f"{s!r} not in the text")
    if wrong:
        sys.exit("; ".join(wrong))
    print(f"{len(got)} figures as written")


def check_nonfinite(path):
    d = strict_load(path)
    fields = floats(d)
    notnull = [f"{k}: {v!r}" for k, v in fields if v is not None]
    if notnull:
        sys.exit("not null: " + ", ".join(notnull))
    if d["cluster_sizes"] != [3, 4] or d["n_clusters"] != 2:
        sys.exit(f"integers changed: cluster_sizes {d['cluster_sizes']}, n_clusters {d['n_clusters']}")
    print(f"{len(fields)} figures null")


CALL = re.compile(r"\b(printf|fprintf|fputs|puts)\s*\(")
JSON_CALL = re.compile(r"\b(?:json_write_key_number|json_write_number|json_write_figures|json_write_string|"
                       r"pca_write_json|metrics_report_write_json|metrics_json_string)\s*\(\s*([^,()]+),")
LITERAL = re.compile(r'"((?:\\.|[^"\\\n])*)"')
FLOAT = re.compile(r"%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[lL]?[fFgGeEaA]")


def call_args(src, start):
    """The argument text of the call whose '(' is at start, without the parentheses."""
    depth, i = 0, start
    while i < len(src):
        c = src[i]
        if c == '"':
            m = LITERAL.match(src, i)
            i = m.end() if m else i + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return src[start + 1:i]
        i += 1
    return src[start + 1:]


def split_args(args):
    """Top-level comma-separated arguments (commas in literals and calls kept)."""
    out, depth, cur, i = [], 0, "", 0
    while i < len(args):
        c = args[i]
        if c == '"':
            m = LITERAL.match(args, i)
            j = m.end() if m else i + 1
            cur += args[i:j]
            i = j
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    out.append(cur.strip())
    return out


def prints(body):
    """(offset, stream, format text) of every printf-family call in body."""
    for m in CALL.finditer(body):
        args = split_args(call_args(body, m.end() - 1))
        name = m.group(1)
        stream = {"printf": "stdout", "puts": "stdout", "fprintf": args[0], "fputs": args[-1]}[name]
        fmt = "".join(LITERAL.findall(",".join(args[1:] if name == "fprintf" else args)))
        yield m.start(), stream, fmt


def functions(src):
    """(offset, body) of every function: from a line '{' to the next line '}'."""
    for m in re.finditer(r"^\{\n(.*?)^\}$", src, re.M | re.S):
        yield m.start(1), m.group(1)


def check_sources(dirs):
    """Two rules.  A printf-family call whose format holds a JSON key (\") and
    a floating-point conversion.  And, in a function that writes JSON to a
    stream (a json.h / pca / metrics writer called on it, or a format with a
    key), any floating-point conversion printed to that stream."""
    bad = []
    files = sorted(p for d in dirs for p in glob.glob(os.path.join(d, "**", "*.c"), recursive=True))
    if not files:
        sys.exit(f"no C sources in {dirs}")
    for path in files:
        if os.path.basename(path) == "json.c":
            continue
        src = open(path).read()
        where = lambda off: f"{path}:{src.count(chr(10), 0, off) + 1}"
        for off, body in functions(src):
            calls = list(prints(body))
            streams = {m.group(1).strip() for m in JSON_CALL.finditer(body)}
            streams |= {stream for _, stream, fmt in calls if '\\"' in fmt}
            for coff, stream, fmt in calls:
                if FLOAT.search(fmt) and ('\\"' in fmt or stream in streams):
                    bad.append(f"{where(off + coff)}: {fmt[:70]!r} to {stream}")
    if bad:
        sys.exit("JSON numbers printed directly (use json_write_key_number or json_write_figures):\n" +
                 "\n".join(bad))
    print(f"{len(files)} sources: no JSON number printed directly")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "finite":
        check_finite(sys.argv[2])
    elif mode == "nonfinite":
        check_nonfinite(sys.argv[2])
    elif mode == "sources":
        check_sources(sys.argv[2:])
    else:
        sys.exit(f"unknown mode {mode}")
