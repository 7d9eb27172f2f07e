"""Independent per case / request / transaction details of a JMeter CSV, for the report tests.

usage: details.py CSV [P,P,...]   (extra percentiles, reported in "percentiles")
Prints JSON keyed "level|case|name" with requests, successCount, errorCount, min, max,
averageRespTime, tp50..tp9999 (nearest rank), sum2xx..sum5xx, failedTimeout, failedRefused,
failedAssert (rows whose code is 2xx/3xx and failed), plus "outline" (requests, successCount,
startTime, endTime, maxUsers).
"""
import csv
import json
import math
import re
import sys

rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")))
EXTRA = [float(p) for p in sys.argv[2].split(",")] if len(sys.argv) > 2 else []
TX = "Number of samples in transaction"


def case(r):
    return re.sub(r" \d+-\d+$", "", r["threadName"])


def nearest(values, p):
    s = sorted(values)
    return float(s[max(1, math.ceil(p / 100 * len(s))) - 1])


def detail(sel):
    el = [int(r["elapsed"]) for r in sel]
    codes = [r["responseCode"] for r in sel]
    failed = [r for r in sel if r["success"] == "false"]
    out = {
        "requests": len(sel),
        "successCount": len(sel) - len(failed),
        "errorCount": len(failed),
        "min": float(min(el)),
        "max": float(max(el)),
        "averageRespTime": sum(el) / len(el),
        "failedTimeout": sum("SocketTimeoutException" in r["responseCode"] for r in failed),
        "failedRefused": sum("ConnectException" in r["responseCode"] for r in failed),
        "failedAssert": sum(re.fullmatch(r"[23]\d\d", r["responseCode"]) is not None for r in failed),
    }
    for name, p in [("tp50", 50), ("tp75", 75), ("tp85", 85), ("tp90", 90), ("tp95", 95),
                    ("tp99", 99), ("tp999", 99.9), ("tp9999", 99.99)]:
        out[name] = nearest(el, p)
    if EXTRA:
        out["percentiles"] = {"%g" % p: nearest(el, p) for p in EXTRA}
    for d in "2345":
        out[f"sum{d}xx"] = sum(re.fullmatch(d + r"\d\d", c) is not None for c in codes)
    return out


result = {}
top = [r for r in rows if not r["responseMessage"].startswith(TX)]
for c in sorted({case(r) for r in rows}):
    result[f"case|{c}|"] = detail([r for r in top if case(r) == c])
for c, label in sorted({(case(r), r["label"]) for r in rows}):
    sel = [r for r in rows if case(r) == c and r["label"] == label]
    level = "transaction" if sel[0]["responseMessage"].startswith(TX) else "request"
    result[f"{level}|{c}|{label}"] = detail(sel)
result["outline"] = {
    "requests": len(top),
    "successCount": sum(r["success"] == "true" for r in top),
    "startTime": min(int(r["timeStamp"]) for r in top),
    "endTime": max(int(r["timeStamp"]) + int(r["elapsed"]) for r in top),
    "maxUsers": max(int(r["allThreads"]) for r in top),
}
print(json.dumps(result))
