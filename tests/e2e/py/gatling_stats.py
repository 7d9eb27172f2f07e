"""Independent per-name statistics of a Gatling simulation.log, for the end-to-end tests.

Reads the text log (Gatling 3.0–3.12) with the csv module (TAB delimiter, no quoting) or the
binary log (3.13+, first byte 0) with struct (big-endian ints, cached strings), straight from
Gatling's writers as `../shared/design/peer-formats.md` §3–4 describes them — it shares no code
with loadlake's importer:

- text: a REQUEST's status is the first OK/KO field after two integers (start, end); the name is
  the field before them; GROUP: the field before start, end and cumulated;
- binary: records 0 RUN, 1 REQUEST, 2 USER, 3 GROUP, 4 ERROR; times are int32 ms after the RUN's
  start; a record cut by the end of the file is ignored.

Prints JSON: {"names": {name: {"count", "failures", "min", "max", "sum"}}, "total", "failures",
"groups": {group: {"count", "min", "max", "sum", "cumulated"}}, "users": {"start", "end"},
"errors", "version", "ko_messages": [..]} with durations in ms (end − start).

usage: gatling_stats.py FILE
"""

import csv
import json
import struct
import sys


def add(table, name, ms, failed=False, cumulated=None):
    t = table.setdefault(name, {"count": 0, "failures": 0, "min": None, "max": None, "sum": 0})
    t["count"] += 1
    t["failures"] += 1 if failed else 0
    t["min"] = ms if t["min"] is None else min(t["min"], ms)
    t["max"] = ms if t["max"] is None else max(t["max"], ms)
    t["sum"] += ms
    if cumulated is not None:
        t["cumulated"] = t.get("cumulated", 0) + cumulated


def is_int(s):
    try:
        int(s)
        return True
    except ValueError:
        return False


def text(path, out):
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not row:
                continue
            kind = row[0]
            if kind == "RUN":
                out["version"] = row[5] if len(row) > 5 else None
            elif kind == "USER":
                out["users"]["start" if "START" in row else "end"] += 1
            elif kind == "ERROR":
                out["errors"] += 1
            elif kind in ("REQUEST", "GROUP"):
                i = next(
                    i for i in range(3, len(row))
                    if row[i] in ("OK", "KO") and is_int(row[i - 1]) and is_int(row[i - 2])
                )
                ko = row[i] == "KO"
                if kind == "REQUEST":
                    start, end = int(row[i - 2]), int(row[i - 1])
                    add(out["names"], row[i - 3], end - start, ko)
                    if ko:
                        out["ko_messages"].append(row[i + 1] if len(row) > i + 1 else "")
                else:
                    start, end = int(row[i - 3]), int(row[i - 2])
                    group = row[i - 4].split(",")[-1]
                    add(out["groups"], group, end - start, ko, int(row[i - 1]))


class Cut(Exception):
    pass


def binary(path, out):
    data = open(path, "rb").read()
    pos = 0
    cache = {}

    def take(n):
        nonlocal pos
        if pos + n > len(data):
            raise Cut()
        b = data[pos:pos + n]
        pos += n
        return b

    def i32():
        return struct.unpack(">i", take(4))[0]

    def string():
        n = i32()
        if n == 0:
            return ""
        raw = take(n)
        coder = take(1)[0]
        return raw.decode("latin-1") if coder == 0 else raw.decode("utf-16-le")

    def cstring():
        k = i32()
        if k > 0:
            cache[k] = string()
            return cache[k]
        return cache[-k]

    assert take(1)[0] == 0
    out["version"] = string()
    string()  # simulation class
    run_start = struct.unpack(">q", take(8))[0]
    string()  # description
    for _ in range(i32()):
        string()
    for _ in range(i32()):
        take(i32())
    while pos < len(data):
        mark = pos
        try:
            kind = take(1)[0]
            if kind == 1:
                groups = [cstring() for _ in range(i32())]
                name = cstring()
                start, end = i32(), i32()
                ok = take(1)[0] == 1
                msg = cstring()
                add(out["names"], name, end - start, not ok)
                if not ok:
                    out["ko_messages"].append(msg)
            elif kind == 2:
                i32()
                out["users"]["start" if take(1)[0] == 1 else "end"] += 1
                i32()
            elif kind == 3:
                groups = [cstring() for _ in range(i32())]
                start, end, cumulated = i32(), i32(), i32()
                ok = take(1)[0] == 1
                add(out["groups"], groups[-1], end - start, not ok, cumulated)
            elif kind == 4:
                cstring()
                i32()
                out["errors"] += 1
            else:
                raise ValueError(f"record type {kind} at byte {mark}")
        except Cut:
            break
    _ = run_start


def main():
    path = sys.argv[1]
    out = {"names": {}, "groups": {}, "users": {"start": 0, "end": 0}, "errors": 0,
           "version": None, "ko_messages": []}
    with open(path, "rb") as f:
        first = f.read(1)
    if first == b"\x00":
        binary(path, out)
    else:
        text(path, out)
    out["total"] = sum(t["count"] for t in out["names"].values())
    out["failures"] = sum(t["failures"] for t in out["names"].values())
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
