"""Independent per-name statistics of a k6 result file, for the end-to-end tests.

Reads `k6 --out json` (NDJSON, gzip'd or not) with the json module, or `k6 --out csv` with the
csv module, and aggregates **per metric**, as k6's own end-of-test summary does — it never joins
a request's Points, so it shares no logic with loadlake's importer:

- requests per name: the `http_reqs` Points (name = tag `name`, else `url`);
- failures per name: `http_req_failed` Points with value 1; in files without any
  `http_req_failed` Point (k6 < 0.31), `http_reqs` Points whose status is not 200–399 or whose
  `error` tag is set;
- durations per name: the `http_req_duration` values, raw (min / max / sum) and rounded half away
  from zero to whole ms (min / max / sum), as the importer documents it rounds them;
- groups: `group_duration` Points per group; checks: passes and fails.

Only complete lines are read: a last line without a line break (a killed k6) is ignored.

Prints JSON: {"names": {name: {"count", "failures", "min", "max", "sum", "raw_min", "raw_max",
"raw_sum", "raw_p": {"med", "p(90)", "p(95)"}}}, "total", "failures", "groups": {group: n},
"checks": {"pass", "fail"}}. `raw_p` are percentiles of the raw durations by linear
interpolation between closest ranks at (n − 1)·p.

`rows FILE` (JSON only) instead joins each request's Points — the `http_reqs` Point and the
Points after it with the same time and tags — and prints one object per request in file order:
name, ts (end − duration, ns exact, floored to ms), elapsed / latency (sending + waiting) /
connect (connecting + tls_handshaking) rounded half away from zero to ms and (`*_us`) to µs,
status, error, error_code, failed.

usage: k6_stats.py FILE
       k6_stats.py rows FILE
"""
import csv
import gzip
import io
import json
import math
import sys


def half_away(x):
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def linear(values, p):
    v = sorted(values)
    i = p * (len(v) - 1)
    lo, hi = math.floor(i), math.ceil(i)
    return v[lo] + (v[hi] - v[lo]) * (i - lo)


def time_ns(t):
    """Ns since the epoch of an RFC 3339 time with up to 9 fraction digits."""
    import datetime
    main, frac, rest = t, "", ""
    if "." in t:
        main, tail = t.split(".", 1)
        digits = len(tail) - len(tail.lstrip("0123456789"))
        frac, rest = tail[:digits], tail[digits:]
    else:
        for sign in ("Z", "+", "-"):
            k = t.rfind(sign)
            if k > 10:
                main, rest = t[:k], t[k:]
                break
    if rest == "Z":
        rest = "+00:00"
    dt = datetime.datetime.fromisoformat(main + rest)
    return int(dt.timestamp()) * 10**9 + int((frac + "000000000")[:9])


def rows(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    out, req = [], None
    for line in raw.decode("utf-8").split("\n"):
        if not line.strip():
            continue
        obj = json.loads(line)
        if obj.get("type") != "Point":
            continue
        m, d = obj["metric"], obj["data"]
        if m == "http_reqs":
            req = {"time": d["time"], "tags": d.get("tags") or {}, "v": {}}
            out.append(req)
        elif m.startswith("http_req_") and req and d["time"] == req["time"] and (d.get("tags") or {}) == req["tags"]:
            req["v"][m[len("http_req_"):]] = float(d["value"])
    result = []
    for r in out:
        v, tags = r["v"], r["tags"]
        dur = v["duration"]
        start = time_ns(r["time"]) - round(dur * 1e6)
        result.append({
            "name": tags.get("name") or tags.get("url"),
            "ts": start // 10**6,
            "elapsed": half_away(dur),
            "latency": half_away(v["sending"] + v["waiting"]),
            "connect": half_away(v["connecting"] + v["tls_handshaking"]),
            "elapsed_us": half_away(dur * 1000),
            "latency_us": half_away((v["sending"] + v["waiting"]) * 1000),
            "connect_us": half_away((v["connecting"] + v["tls_handshaking"]) * 1000),
            "status": tags.get("status"),
            "error": tags.get("error"),
            "error_code": tags.get("error_code"),
            "failed": v.get("failed") == 1,
        })
    print(json.dumps(result))


def points_json(text):
    for line in text.split("\n"):
        if not line.strip():
            continue
        obj = json.loads(line)
        if obj.get("type") != "Point":
            continue
        data = obj["data"]
        yield obj["metric"], float(data["value"]), data.get("tags") or {}


def points_csv(text):
    rows = csv.reader(io.StringIO(text))
    header = next(rows)
    idx = {c: i for i, c in enumerate(header)}
    skip = {"metric_name", "timestamp", "metric_value", "extra_tags", "metadata"}
    for r in rows:
        if r == header or not r:
            continue
        tags = {c: r[i] for c, i in idx.items() if c not in skip and r[i] != ""}
        yield r[idx["metric_name"]], float(r[idx["metric_value"]]), tags


def main(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8")
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]  # the cut last line of a killed k6
    first = text.lstrip()[:1]
    points = points_json(text) if first == "{" else points_csv(text)
    names, groups = {}, {}
    checks = {"pass": 0, "fail": 0}
    failed_points = 0
    status_failures = {}

    def entry(tags):
        name = tags.get("name") or tags.get("url") or ""
        return names.setdefault(name, {
            "count": 0, "failures": 0, "min": None, "max": None, "sum": 0,
            "raw_min": None, "raw_max": None, "raw_sum": 0.0, "raw": [],
        })

    for metric, value, tags in points:
        if metric == "http_reqs":
            e = entry(tags)
            e["count"] += 1
            status = tags.get("status", "")
            ok = status.isdigit() and 200 <= int(status) < 400 and not tags.get("error")
            if not ok:
                key = tags.get("name") or tags.get("url") or ""
                status_failures[key] = status_failures.get(key, 0) + 1
        elif metric == "http_req_failed":
            failed_points += 1
            if value == 1:
                entry(tags)["failures"] += 1
        elif metric == "http_req_duration":
            e = entry(tags)
            ms = half_away(value)
            e["min"] = ms if e["min"] is None else min(e["min"], ms)
            e["max"] = ms if e["max"] is None else max(e["max"], ms)
            e["sum"] += ms
            e["raw_min"] = value if e["raw_min"] is None else min(e["raw_min"], value)
            e["raw_max"] = value if e["raw_max"] is None else max(e["raw_max"], value)
            e["raw_sum"] += value
            e["raw"].append(value)
        elif metric == "group_duration":
            g = tags.get("group", "")
            groups[g] = groups.get(g, 0) + 1
        elif metric == "checks":
            checks["pass" if value == 1 else "fail"] += 1
    if failed_points == 0:
        for name, n in status_failures.items():
            names[name]["failures"] = n
    for e in names.values():
        values = e.pop("raw")
        if values:
            e["raw_p"] = {k: linear(values, p) for k, p in (("med", 0.5), ("p(90)", 0.9), ("p(95)", 0.95))}
    print(json.dumps({
        "names": names,
        "total": sum(e["count"] for e in names.values()),
        "failures": sum(e["failures"] for e in names.values()),
        "groups": groups,
        "checks": checks,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "rows":
        rows(sys.argv[2])
    else:
        main(sys.argv[1])
