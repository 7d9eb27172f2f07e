"""Writes a variant of a JMeter CSV for comparison and trend tests.

usage: jtl_variant.py SRC DST LABEL FACTOR SHIFT_MS
Every row of LABEL gets its elapsed multiplied by FACTOR (rounded to whole ms); every row's
timeStamp moves by SHIFT_MS. Other fields are copied unchanged.
"""
import csv
import sys

src, dst, label, factor, shift = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
with open(src, encoding="utf-8", newline="") as f:
    reader = csv.DictReader(f)
    fields = reader.fieldnames
    rows = list(reader)
for r in rows:
    r["timeStamp"] = str(int(r["timeStamp"]) + shift)
    if r["label"] == label:
        r["elapsed"] = str(round(int(r["elapsed"]) * factor))
with open(dst, "w", encoding="utf-8", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
