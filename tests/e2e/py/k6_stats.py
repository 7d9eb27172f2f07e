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
"raw_sum"}}, "total", "failures", "groups": {group: n}, "checks": {"pass", "fail"}}.

usage: k6_stats.py FILE
"""
import csv
import gzip
import io
import json
import math
import sys


def half_away(x):
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


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
            "raw_min": None, "raw_max": None, "raw_sum": 0.0,
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
        elif metric == "group_duration":
            g = tags.get("group", "")
            groups[g] = groups.get(g, 0) + 1
        elif metric == "checks":
            checks["pass" if value == 1 else "fail"] += 1
    if failed_points == 0:
        for name, n in status_failures.items():
            names[name]["failures"] = n
    print(json.dumps({
        "names": names,
        "total": sum(e["count"] for e in names.values()),
        "failures": sum(e["failures"] for e in names.values()),
        "groups": groups,
        "checks": checks,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
