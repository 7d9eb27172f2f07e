"""DuckDB's side of the import benchmark (import_vs_duckdb.sh): a JMeter CSV JTL to zstd
Parquet with a `COPY`, timed alone. Prints the rows written, the COPY's seconds and its CPU
seconds (every thread's).
Usage: duck_import.py CSV PARQUET THREADS MODE, MODE one of
  plain          the file's 17 columns as they are (the peer of issue 18's target)
  sorted         the same, ORDER BY timeStamp
  same           loadlake's job: 30 of its 31 columns (all but `row`), derived from the row as
                 loadlake derives them (the case from the thread name, the kind, the error
                 class, the counts, the absent columns as nulls), ORDER BY ts
  same-unsorted  those 30 columns in the file's order
  same-with-row  all 31 columns, ORDER BY ts, row (`row_number() OVER ()` runs on one thread)
DuckDB sorts the whole file where loadlake sorts each part (262 144 rows, parts of a file nearly
in time order barely overlap): `same` is the bigger job, `same-unsorted` the smaller.
The error class follows docs/error-classes.md's rules with their marker lists shortened; the
case is the thread name without JMeter's " g-t" suffix; no sub-results are looked for."""
import resource, sys, time, duckdb
csv, parquet, threads, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
types = {
    "timeStamp": "BIGINT", "elapsed": "BIGINT", "label": "VARCHAR", "responseCode": "VARCHAR",
    "responseMessage": "VARCHAR", "threadName": "VARCHAR", "dataType": "VARCHAR",
    "success": "BOOLEAN", "failureMessage": "VARCHAR", "bytes": "BIGINT", "sentBytes": "BIGINT",
    "grpThreads": "INTEGER", "allThreads": "INTEGER", "URL": "VARCHAR", "Latency": "BIGINT",
    "IdleTime": "BIGINT", "Connect": "BIGINT",
}
types_sql = "{" + ", ".join("'%s': '%s'" % kv for kv in types.items()) + "}"
src = "read_csv('%s', header = true, types = %s)" % (csv.replace("'", "''"), types_sql)
timeout = "Timeout|timed out|SocketTimeoutException|ConnectTimeoutException"
refused = "ConnectException|NoRouteToHostException|UnknownHostException|Connection refused"
parse = "ParseException|ProtocolException|MalformedChunkCodingException|JSONException"
same = f"""
SELECT ROW_COLUMN make_timestamp(timeStamp * 1000) AS ts,
  elapsed AS elapsed_ms, Latency AS latency_ms, Connect AS connect_ms, IdleTime AS idle_ms,
  NULL::BIGINT AS intended_elapsed_ms, label,
  regexp_replace(threadName, ' [0-9]+-[0-9]+$', '') AS case_name, threadName AS thread,
  'sample' AS kind, NULL::BIGINT AS parent_row, responseCode AS response_code,
  responseMessage AS response_message, success, nullif(failureMessage, '') AS failure_message,
  CASE WHEN success THEN 'success'
       WHEN regexp_matches(concat(responseCode, responseMessage), '{timeout}') THEN 'timeout'
       WHEN regexp_matches(concat(responseCode, responseMessage), '{refused}') THEN 'refused'
       WHEN regexp_matches(concat(responseCode, responseMessage), '{parse}') THEN 'parse'
       WHEN responseCode BETWEEN '400' AND '499' THEN 'http_4xx'
       WHEN responseCode BETWEEN '500' AND '599' THEN 'http_5xx'
       ELSE 'assertion' END AS error_class,
  bytes AS bytes_received, sentBytes AS bytes_sent, grpThreads AS grp_threads,
  allThreads AS all_threads, 1::INTEGER AS sample_count,
  (NOT success)::INTEGER AS error_count, nullif(URL, 'null') AS url, NULL::VARCHAR AS agent,
  nullif(dataType, '') AS data_type, NULL::VARCHAR AS encoding,
  NULL::MAP(VARCHAR, VARCHAR) AS vars, NULL::BIGINT AS elapsed_us, NULL::BIGINT AS latency_us,
  NULL::BIGINT AS connect_us
FROM {src}"""
with_row = same.replace("ROW_COLUMN", "row_number() OVER () - 1 AS row,")
same = same.replace("ROW_COLUMN", "")
queries = {
    "plain": f"SELECT * FROM {src}",
    "sorted": f"SELECT * FROM {src} ORDER BY timeStamp",
    "same": f"SELECT * FROM ({same}) ORDER BY ts",
    "same-unsorted": same,
    "same-with-row": f"SELECT * FROM ({with_row}) ORDER BY ts, row",
}
if mode not in queries:
    sys.exit(f"duck_import.py: unknown mode {mode!r}; one of {', '.join(queries)}")
query = queries[mode]
con = duckdb.connect()
con.execute("SET threads = %d" % threads)
con.execute("SET enable_progress_bar = false")
# Rows may be written in any order where the query does not ask for one (DuckDB's fastest);
# `row_number() OVER ()` numbers the rows in the file's order only when the order is kept.
if mode != "same-with-row":
    con.execute("SET preserve_insertion_order = false")
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
c0, t0 = cpu(), time.perf_counter()
target = parquet.replace("'", "''")
rows = con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)").fetchall()[0][0]
t1, c1 = time.perf_counter(), cpu()
print(rows, f"{t1 - t0:.3f}", f"{c1 - c0:.2f}")
