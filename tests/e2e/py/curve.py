"""Independent curve of a JMeter CSV: top-level samples bucketed by floor(start / interval).

usage: curve.py CSV INTERVAL_MS [LABEL]
Prints JSON {t: {"requests", "errors", "p90" (nearest rank), "avg"}} and "total".
"""
import csv
import json
import math
import sys

rows = [r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", newline=""))
        if not r["responseMessage"].startswith("Number of samples in transaction")]
if len(sys.argv) > 3:
    rows = [r for r in rows if r["label"] == sys.argv[3]]
interval = int(sys.argv[2])
buckets = {}
for r in rows:
    t = int(r["timeStamp"]) // interval * interval
    buckets.setdefault(t, []).append(r)
out = {}
for t, sel in buckets.items():
    el = sorted(int(r["elapsed"]) for r in sel)
    out[str(t)] = {
        "requests": len(sel),
        "errors": sum(r["success"] == "false" for r in sel),
        "p90": float(el[max(1, math.ceil(0.9 * len(el))) - 1]),
        "avg": sum(el) / len(el),
    }
print(json.dumps({"points": out, "total": len(rows)}))
