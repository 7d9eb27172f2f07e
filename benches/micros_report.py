#!/usr/bin/env python3
"""Helpers of benches/micros_report.sh (not a test: a benchmark's set-up and its second opinion).

  micros_report.py add-micros STORE RUN_ID
      Rewrites the Parquet parts run RUN_ID's manifest lists so that each sample also has
      microseconds, as a k6 import or `loadlake run` would have written them:
      elapsed_us = elapsed_ms * 1000 + a deterministic 0..999 µs (row * 7919 mod 1000), likewise
      latency_us and connect_us. The rows and every other column stay as they are.

  micros_report.py duckdb STORE RUN_ID THREADS
      DuckDB's exact per-label percentiles of elapsed_us (quantile_disc: the smallest value with
      at least p of the values at or below it, which is loadlake's nearest-rank) on the same
      files, timed; prints JSON {"seconds", "labels": {label: {"tp50", "tp90", "tp95", "tp99"}}}.
"""
import json
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def part_paths(store, run_id):
    with open(f"{store}/runs/{run_id}.json") as f:
        manifest = json.load(f)
    files = [p["path"] for p in manifest.get("files", [])]
    if not files:
        import glob
        files = sorted(p[len(store) + 1:] for p in glob.glob(f"{store}/samples/run_id={run_id}/*.parquet"))
    return [f"{store}/{p}" for p in files]


def add_micros(store, run_id):
    for path in part_paths(store, run_id):
        table = pq.read_table(path)
        jitter = pc.subtract(
            pc.multiply(table["row"], pa.scalar(7919, pa.int64())),
            pc.multiply(
                pc.divide(pc.multiply(table["row"], pa.scalar(7919, pa.int64())), pa.scalar(1000, pa.int64())),
                pa.scalar(1000, pa.int64()),
            ),
        )
        for us, ms in (("elapsed_us", "elapsed_ms"), ("latency_us", "latency_ms"), ("connect_us", "connect_ms")):
            value = pc.add(pc.multiply(table[ms], pa.scalar(1000, pa.int64())), jitter)
            i = table.schema.get_field_index(us)
            table = table.set_column(i, table.schema.field(i), value)
        pq.write_table(table, path, compression="zstd")
    print(f"added microseconds to run {run_id}", file=sys.stderr)


def duckdb_percentiles(store, run_id, threads):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    files = part_paths(store, run_id)
    started = time.perf_counter()
    rows = con.execute(
        "SELECT label, quantile_disc(elapsed_us, [0.5, 0.9, 0.95, 0.99]) FROM read_parquet(?) "
        "WHERE kind = 'sample' GROUP BY label",
        [files],
    ).fetchall()
    seconds = time.perf_counter() - started
    labels = {label: dict(zip(("tp50", "tp90", "tp95", "tp99"), q)) for label, q in rows}
    print(json.dumps({"seconds": seconds, "labels": labels}))


if __name__ == "__main__":
    if sys.argv[1] == "add-micros":
        add_micros(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "duckdb":
        duckdb_percentiles(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
