"""Independent PTS scene statistics (AllSampleStat + per sampler) of a JMeter CSV.

usage: pts.py CSV
Top-level samples (transaction rows excluded); rates over the scene span.
"""
import csv
import json
import math
import sys

rows = [r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", newline=""))
        if not r["responseMessage"].startswith("Number of samples in transaction")]
span = max(int(r["timeStamp"]) + int(r["elapsed"]) for r in rows) - min(int(r["timeStamp"]) for r in rows)


def nearest(values, p):
    s = sorted(values)
    return float(s[max(1, math.ceil(p / 100 * len(s))) - 1])


def stat(sel):
    el = [int(r["elapsed"]) for r in sel]
    ok = [int(r["elapsed"]) for r in sel if r["success"] == "true"]
    ko = [int(r["elapsed"]) for r in sel if r["success"] == "false"]
    out = {
        "count": len(el), "successCount": len(ok), "failCount": len(ko),
        "tps": len(el) / span * 1000, "successTps": len(ok) / span * 1000, "failTps": len(ko) / span * 1000,
        "rtAvg": sum(el) / len(el), "rtMin": float(min(el)), "rtMax": float(max(el)),
        "rtSeg50": nearest(el, 50), "rtSeg90": nearest(el, 90), "rtSeg99": nearest(el, 99),
        "duration": span / 1000,
    }
    for prefix, v in (("success", ok), ("fail", ko)):
        out[prefix + "RtAvg"] = sum(v) / len(v) if v else None
        out[prefix + "RtMin"] = float(min(v)) if v else None
        out[prefix + "RtMax"] = float(max(v)) if v else None
        out[prefix + "RtSum"] = float(sum(v)) if v else None
    return out


print(json.dumps({
    "AllSampleStat": stat(rows),
    "SampleStatList": {l: stat([r for r in rows if r["label"] == l]) for l in sorted({r["label"] for r in rows})},
}))
