"""Reads a loadlake store with DuckDB and pyarrow, independently of loadlake. Prints JSON.

usage: duckdb_store.py STORE
"""
import json
import sys

import duckdb
import pyarrow.dataset as ds

store = sys.argv[1]
glob = f"{store}/samples/*/*.parquet"
con = duckdb.connect()
total = con.execute(f"select count(*) from read_parquet('{glob}', hive_partitioning=1)").fetchall()[0][0]
per_run = dict(con.execute(
    f"select run_id, count(*) from read_parquet('{glob}', hive_partitioning=1) group by run_id").fetchall())
per_label = {f"{r}|{l}": [n, e, mn, mx] for r, l, n, e, mn, mx in con.execute(
    f"""select run_id, label, count(*), sum(case when success then 0 else 1 end), min(elapsed_ms), max(elapsed_ms)
        from read_parquet('{glob}', hive_partitioning=1) group by run_id, label""").fetchall()}
dataset = ds.dataset(f"{store}/samples", format="parquet", partitioning="hive")
print(json.dumps({
    "total": total,
    "per_run": per_run,
    "per_label": per_label,
    "pyarrow_rows": dataset.count_rows(),
    "pyarrow_columns": dataset.schema.names,
    "ts_type": str(dataset.schema.field("ts").type),
}))
