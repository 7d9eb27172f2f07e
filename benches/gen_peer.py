#!/usr/bin/env python3
"""Grow a real k6 `--out json` file or a real Gatling text `simulation.log` to N requests, for the
peer-import benchmark (benches/peer_import.sh).

Nothing here invents a format: the output repeats the seed file's own lines (written by real k6
or real Gatling), shifted in time, so key order, tags, metrics, number formats and record types
are the tool's.

* k6: the seed's `Metric` lines once, then its request blocks (the Points of one request: the
  consecutive `http_req*` Points sharing a time and tags, from `http_reqs` on) repeated in order
  until N requests are written; every repetition is moved later by the seed's time span, the
  `time` string rewritten in k6's own format (RFC 3339, microseconds, the seed's offset). Other
  Points (vus, iterations, group_duration, checks …) are left out: they carry no request.
* Gatling (text, 3.x): the seed's RUN line once, then its USER / REQUEST / GROUP lines repeated
  until N REQUEST lines are written, every epoch-millisecond field moved by the seed's span.

Usage: gen_peer.py k6 SEED N OUT      gen_peer.py gatling SEED N OUT
"""
import datetime
import json
import sys


def k6(seed, n, out):
    metrics, blocks, block, block_time = [], [], [], None
    with open(seed, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["type"] == "Metric":
                metrics.append(line)
                continue
            name = rec["metric"]
            if not name.startswith("http_req"):
                continue
            key = (rec["data"]["time"], json.dumps(rec["data"]["tags"], sort_keys=True))
            if name == "http_reqs" or key != block_time:
                if block:
                    blocks.append((block_time[0], block))
                block, block_time = [], key
            block.append(line)
    if block:
        blocks.append((block_time[0], block))
    if not blocks:
        sys.exit(f"{seed}: no http_req* Points")
    times = [datetime.datetime.fromisoformat(t) for t, _ in blocks]
    span = max(times) - min(times) + datetime.timedelta(milliseconds=1)
    written = 0
    with open(out, "w", encoding="utf-8") as w:
        w.writelines(metrics)
        cycle = 0
        while written < n:
            shift = span * cycle
            for (t, lines), when in zip(blocks, times):
                if written == n:
                    break
                moved = (when + shift).isoformat(timespec="microseconds")
                moved = moved.replace("+00:00", "Z") if t.endswith("Z") else moved
                needle = f'"time":"{t}"'
                for line in lines:
                    w.write(line.replace(needle, f'"time":"{moved}"', 1))
                written += 1
            cycle += 1
    print(f"{out}: {written} requests from {len(blocks)} in {seed}")


# Tab-separated fields holding epoch milliseconds, by record type, in both Gatling 3.x text
# layouts: 3.0–3.3 (`REQUEST user_id groups name start end status`, `USER scenario user_id
# START|END start end`) and 3.4–3.12 (`REQUEST groups name start end status message`,
# `USER scenario START|END time`); `GROUP groups start end cumulated status` in both.
def _time_fields(fields):
    kind = fields[0]
    if kind == "REQUEST":
        return [3, 4] if fields[5] in ("OK", "KO") else [4, 5]
    if kind == "USER":
        return [3] if len(fields) == 4 else [4, 5]
    if kind == "GROUP":
        return [2, 3]
    return []


def gatling(seed, n, out):
    with open(seed, encoding="utf-8") as f:
        lines = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    head = [l for l in lines if l[0] == "RUN"]
    body = [l for l in lines if l[0] in ("USER", "REQUEST", "GROUP")]
    stamps = [int(l[i]) for l in body for i in _time_fields(l)]
    if not stamps or not any(l[0] == "REQUEST" for l in body):
        sys.exit(f"{seed}: no REQUEST records")
    span = max(stamps) - min(stamps) + 1
    written = 0
    with open(out, "w", encoding="utf-8") as w:
        for l in head:
            w.write("\t".join(l) + "\n")
        cycle = 0
        while written < n:
            for l in body:
                if written == n:
                    break
                moved = list(l)
                for i in _time_fields(l):
                    moved[i] = str(int(l[i]) + span * cycle)
                w.write("\t".join(moved) + "\n")
                written += l[0] == "REQUEST"
            cycle += 1
    print(f"{out}: {written} requests from {seed}")


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in ("k6", "gatling"):
        sys.exit(__doc__)
    {"k6": k6, "gatling": gatling}[sys.argv[1]](sys.argv[2], int(sys.argv[3]), sys.argv[4])
