"""Independent per-label statistics with exact percentiles, for the report tests.

usage: label_percentiles.py CSV METHOD P1,P2,P3
Reads a JMeter CSV with a header; prints JSON keyed by label plus "Total" (top-level samples:
transaction rows excluded) with count, errors, mean, min, max, median, pct1..3, throughput.
METHOD: nearest-rank | linear | jmeter-aggregate.
"""
import csv
import json
import math
import sys

path, method, ps = sys.argv[1], sys.argv[2], [float(p) for p in sys.argv[3].split(",")]
rows = list(csv.DictReader(open(path, encoding="utf-8", newline="")))


def pct(values, p):
    s = sorted(values)
    n = len(s)
    if method == "nearest-rank":
        k = max(1, math.ceil(p / 100 * n))
        return float(s[k - 1])
    if method == "jmeter-aggregate":
        k = min(max(1, math.floor(p / 100 * n + 0.5)), n)
        return float(s[k - 1])
    h = (n - 1) * p / 100
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return s[lo] + (h - lo) * (s[hi] - s[lo])


def stats(sel):
    el = [int(r["elapsed"]) for r in sel]
    start = min(int(r["timeStamp"]) for r in sel)
    end = max(int(r["timeStamp"]) + int(r["elapsed"]) for r in sel)
    out = {
        "sampleCount": len(el),
        "errorCount": sum(r["success"] == "false" for r in sel),
        "meanResTime": sum(el) / len(el),
        "minResTime": float(min(el)),
        "maxResTime": float(max(el)),
        "medianResTime": pct(el, 50),
        "throughput": len(el) / (end - start) * 1000 if end > start else None,
    }
    for i, p in enumerate(ps, 1):
        out[f"pct{i}ResTime"] = pct(el, p)
    return out


result = {}
for label in sorted({r["label"] for r in rows}):
    result[label] = stats([r for r in rows if r["label"] == label])
result["Total"] = stats([r for r in rows if not r["responseMessage"].startswith("Number of samples in transaction")])
print(json.dumps(result))
