#!/usr/bin/env python3
"""Strict check of Prometheus text exposition format 0.0.4, for the metrics test.

Reads the text on stdin. Every sample must belong to a family announced before it with exactly
one # HELP and one # TYPE; names and label names must be valid; label values properly escaped;
values parse as floats; counters end in _total; a histogram has _bucket (with le, ending at +Inf),
_sum and _count; no sample (name + labels) twice; families are not split. Exits 1 naming the
first bad line.
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LVAL = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(
    rf"^({NAME})(?:\{{((?:{LNAME}={LVAL})(?:,{LNAME}={LVAL})*)?\}})? (\S+)$")
LABEL = re.compile(rf"({LNAME})=({LVAL})")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def fail(n, line, why):
    print(f"line {n}: {why}: {line!r}", file=sys.stderr)
    sys.exit(1)


def main():
    text = sys.stdin.read()
    if text and not text.endswith("\n"):
        fail(0, text[-40:], "text does not end with a newline")
    helps, types, seen, done = {}, {}, set(), set()
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            parts = line.split(" ", 3)
            if len(parts) < 4 or not re.fullmatch(NAME, parts[2]):
                fail(n, line, "malformed HELP")
            if parts[2] in helps:
                fail(n, line, "second HELP")
            if re.search(r"\\[^\\n]", parts[3].replace("\\\\", "")):
                fail(n, line, "bad escape in HELP")
            if current and current != parts[2]:
                done.add(current)
            if parts[2] in done:
                fail(n, line, "family split")
            helps[parts[2]] = parts[3]
            current = parts[2]
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in TYPES:
                fail(n, line, "malformed TYPE")
            if parts[2] != current or parts[2] in types:
                fail(n, line, "TYPE not right after its HELP")
            types[parts[2]] = parts[3]
            continue
        if line.startswith("#") or not line.strip():
            fail(n, line, "stray comment or blank line")
        m = SAMPLE.match(line)
        if not m:
            fail(n, line, "not a sample")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        fam = current
        if fam is None or fam not in types:
            fail(n, line, "sample before its family's HELP and TYPE")
        t = types[fam]
        if t == "histogram":
            ok = name in (fam + "_bucket", fam + "_sum", fam + "_count")
        elif t == "summary":
            ok = name in (fam, fam + "_sum", fam + "_count")
        else:
            ok = name == fam
        if not ok:
            fail(n, line, f"sample name outside family {fam}")
        if t == "counter" and not fam.endswith("_total"):
            fail(n, line, "counter without _total")
        if t != "counter" and fam.endswith("_total"):
            fail(n, line, "_total on a non-counter")
        lset = LABEL.findall(labels)
        names = [k for k, _ in lset]
        if len(set(names)) != len(names):
            fail(n, line, "label twice")
        if name.endswith("_bucket") and t == "histogram" and "le" not in names:
            fail(n, line, "bucket without le")
        if value not in ("NaN", "+Inf", "-Inf"):
            try:
                float(value)
            except ValueError:
                fail(n, line, "value is not a number")
        key = (name, tuple(sorted(lset)))
        if key in seen:
            fail(n, line, "sample twice")
        seen.add(key)
    for fam in helps:
        if fam not in types:
            fail(0, fam, "HELP without TYPE")
    print(f"ok: {len(helps)} families, {len(seen)} samples")


main()
