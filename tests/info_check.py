#!/usr/bin/env python3
"""info_check.py - checks the output of `dsc info --json` against expectations.

    info_check.py INFO.json KEY=VALUE...

KEY is a dotted path into the JSON document; `var.NAME.FIELD` looks up the
variable called NAME in the list `variables`, `file.I.FIELD` the I-th entry
of `file_details`.  Special keys:
    vars=a,b,c        the variable names, in this order
    files=x.nc,y.nc   the base names of `files`, in this order
    paths=P1|P2       the exact paths of `files` (separated by '|')
Values are compared as numbers when both sides are numbers (relative
tolerance 1e-9), as true/false/null for those words, else as strings.
Exits 1 and prints every mismatch when one does not hold.
"""
import json
import math
import os
import sys


def lookup(doc, key):
    parts = key.split(".")
    if parts[0] == "var":
        matches = [v for v in doc["variables"] if v["name"] == parts[1]]
        if len(matches) != 1:
            raise KeyError("variable %s appears %d times" % (parts[1], len(matches)))
        node = matches[0]
        parts = parts[2:]
    elif parts[0] == "file":
        node = doc["file_details"][int(parts[1])]
        parts = parts[2:]
    else:
        node = doc
    for p in parts:
        node = node[p]
    return node


def same(actual, expected):
    if expected in ("true", "false", "null"):
        return actual == {"true": True, "false": False, "null": None}[expected]
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        try:
            e = float(expected)
        except ValueError:
            return False
        return math.isclose(float(actual), e, rel_tol=1e-9, abs_tol=1e-12)
    return str(actual) == expected


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    with open(argv[1]) as f:
        doc = json.load(f)  # fails on invalid JSON
    bad = 0
    for item in argv[2:]:
        key, _, expected = item.partition("=")
        try:
            if key == "vars":
                actual = ",".join(v["name"] for v in doc["variables"])
            elif key == "files":
                actual = ",".join(os.path.basename(p) for p in doc["files"])
            elif key == "paths":
                actual = "|".join(doc["files"])
            else:
                actual = lookup(doc, key)
        except (KeyError, IndexError, TypeError) as e:
            print("%s: not found (%s)" % (key, e))
            bad += 1
            continue
        if not same(actual, expected):
            print("%s: got %r, expected %r" % (key, actual, expected))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
