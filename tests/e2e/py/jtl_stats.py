"""Independent per-label statistics of a JTL file, for the end-to-end tests.

Reads CSV with Python's csv module and XML with ElementTree's pull parser (keeping only
complete top-level samples, like a reader of a killed run must). Prints JSON:
{"labels": {label: {"count", "errors", "min", "max", "sum", "n_elapsed"}}, "total": n,
 "codes": {responseCode: n}}.

usage: jtl_stats.py csv FILE DELIM HEADER(yes|no) [COL,COL,...]
       jtl_stats.py xml FILE
"""
import csv
import io
import json
import sys
import xml.etree.ElementTree as ET

SAMPLE_TAGS = {"sample", "httpSample", "statSample"}


OK_200 = [0]


def add(stats, codes, label, elapsed, success, code):
    if success and code == "200":
        OK_200[0] += 1
    s = stats.setdefault(label, {"count": 0, "errors": 0, "min": None, "max": None, "sum": 0, "n_elapsed": 0})
    s["count"] += 1
    if not success:
        s["errors"] += 1
    if elapsed is not None:
        s["min"] = elapsed if s["min"] is None else min(s["min"], elapsed)
        s["max"] = elapsed if s["max"] is None else max(s["max"], elapsed)
        s["sum"] += elapsed
        s["n_elapsed"] += 1
    codes[code] = codes.get(code, 0) + 1


def from_csv(path, delim, header, columns):
    data = open(path, encoding="utf-8", newline="").read()
    complete = data.endswith("\n") or data.endswith("\r")
    rows = list(csv.reader(io.StringIO(data), delimiter=delim, strict=True))
    if not complete:
        rows = rows[:-1]  # the cut-off last record of a killed run
    if header:
        columns, rows = rows[0], rows[1:]
    idx = {c: i for i, c in enumerate(columns)}
    stats, codes = {}, {}
    for r in rows:
        if not r:
            continue
        el = r[idx["elapsed"]] if "elapsed" in idx else ""
        add(stats, codes, r[idx["label"]], int(el) if el else None,
            r[idx["success"]] == "true", r[idx["responseCode"]])
    return stats, codes


def from_xml(path):
    stats, codes = {}, {}
    parser = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    pending = []
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(65536), b""):
                parser.feed(chunk)
                for ev, el in parser.read_events():
                    if ev == "start":
                        depth += 1
                        continue
                    depth -= 1
                    if el.tag in SAMPLE_TAGS:
                        pending.append(el)
                        if depth == 1:  # a complete top-level sample: count its whole tree
                            for s in pending:
                                t = s.get("t")
                                add(stats, codes, s.get("lb"), int(t) if t else None,
                                    s.get("s", "true") == "true", s.get("rc", ""))
                            pending = []
    except ET.ParseError:
        pass  # truncated file: keep what was complete
    return stats, codes


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "csv":
        delim = "\t" if sys.argv[3] == "tab" else sys.argv[3]
        header = sys.argv[4] == "yes"
        cols = sys.argv[5].split(",") if len(sys.argv) > 5 else None
        stats, codes = from_csv(path, delim, header, cols)
    else:
        stats, codes = from_xml(path)
    print(json.dumps({"labels": stats, "total": sum(s["count"] for s in stats.values()), "codes": codes, "ok_200": OK_200[0]}))


main()
