#!/usr/bin/env python3
"""DuckDB side and checks of benches/report_vs_duckdb.sh (see benches/README.md).

Subcommands:

  duck STORE RUN THREADS OUT.json [RANGES]
      Computes with DuckDB, on loadlake's own Parquet files
      (read_parquet('STORE/samples/*/*.parquet', hive_partitioning = true)), the numbers of
      `loadlake report RUN --format json` (outline, details per case / request / transaction,
      response-time ranges, error classes) and of `loadlake curve RUN --interval 1s` (per-second
      points), with the same definitions as queries/*.sql and quantile_disc for the exact
      percentiles. Writes the results to OUT.json; prints "REPORT_S CURVE_S" (seconds spent in
      DuckDB for each part, connection and view set-up included, Python start-up excluded).

  find-run RUNS.json NAME SAMPLES
      Prints the id of the run called NAME with SAMPLES samples in `loadlake runs --format json`
      output (nothing if there is none).

  verify REPORT.json CURVE.json DUCK.json UDAF.csv BUILTIN.csv STORE RUN
      Compares every number loadlake printed with DuckDB's, and the two per-label percentile
      queries with DuckDB's quantile_disc / quantile_cont. Prints a summary; exit 1 on a
      mismatch.
"""

import csv
import json
import math
import sys
import time

PCTS = [50.0, 75.0, 85.0, 90.0, 95.0, 99.0, 99.9, 99.99]
CURVE_PCTS = [50.0, 90.0, 95.0, 99.0]
DEFAULT_RANGES = [50, 200, 500, 1000, 2000, 3000, 4000, 5000]


def q_list(pcts):
    """DuckDB list literal of fractions, written as decimals (0.999, not 99.9/100)."""
    return "[" + ", ".join(repr(round(p / 100.0, 6)) for p in pcts) + "]"


def samples_view(store, run):
    glob = store.rstrip("/") + "/samples/*/*.parquet"
    assert all(c.isalnum() or c == "-" for c in run), run
    return (
        "CREATE OR REPLACE TEMP VIEW samples AS SELECT * FROM read_parquet('%s', "
        "hive_partitioning = true, hive_types = {'run_id': VARCHAR}) WHERE run_id = '%s'"
        % (glob.replace("'", "''"), run)
    )


# ------------------------------------------------------------------ DuckDB queries
# Each mirrors the loadlake query named in its comment; `samples` is the one run.
# DataFusion's BIGINT / 1000 is integer division; DuckDB's is `//`.

OUTLINE = """
WITH s AS (
    SELECT coalesce(case_name, '') AS case_name, elapsed_ms, success, all_threads,
           epoch_ms(ts) AS start_ms, epoch_ms(ts) + elapsed_ms AS end_ms
    FROM samples WHERE kind = 'sample'
),
users_per_second AS (SELECT max(all_threads) AS users FROM s GROUP BY start_ms // 1000),
failed_cases AS (SELECT count(DISTINCT case_name) AS n FROM s WHERE NOT success)
SELECT min(start_ms) AS start_ms, max(end_ms) AS end_ms, count(*) AS requests,
       sum(CASE WHEN success THEN 1 ELSE 0 END) AS success_count,
       avg(elapsed_ms) AS average_resp_time, max(all_threads) AS max_users,
       count(DISTINCT case_name) AS executed_cases,
       count(DISTINCT case_name) - (SELECT n FROM failed_cases) AS pass_cases,
       (SELECT sum(users) FROM users_per_second) / 60.0 AS vum
FROM s
"""

DETAILS = """
WITH s AS (
    SELECT coalesce(case_name, '') AS case_name, label, kind, elapsed_ms, success, error_class,
           response_code, bytes_received, bytes_sent, grp_threads,
           epoch_ms(ts) AS start_ms, epoch_ms(ts) + elapsed_ms AS end_ms,
           coalesce(bytes_received, 0) + coalesce(bytes_sent, 0) AS traffic
    FROM samples
    WHERE kind <> 'subsample'
      AND NOT starts_with(coalesce(response_message, ''), 'Number of samples in transaction : 0,')
),
keyed AS (
    SELECT 'case' AS level, case_name, '' AS name, * EXCLUDE (case_name) FROM s WHERE kind = 'sample'
    UNION ALL
    SELECT CASE WHEN kind = 'transaction' THEN 'transaction' ELSE 'request' END, case_name,
           label AS name, * EXCLUDE (case_name)
    FROM s
),
per_second AS (
    SELECT level, case_name, name, sum(traffic) AS traffic
    FROM keyed GROUP BY level, case_name, name, start_ms // 1000
),
peak AS (
    SELECT level, case_name, name, max(traffic) AS max_traffic_per_second
    FROM per_second GROUP BY level, case_name, name
),
agg AS (
    SELECT level, case_name, name,
           count(*) AS requests,
           sum(CASE WHEN success THEN 1 ELSE 0 END) AS success_count,
           sum(CASE WHEN success THEN 0 ELSE 1 END) AS error_count,
           sum(CASE WHEN error_class = 'assertion' THEN 1 ELSE 0 END) AS failed_assert,
           sum(CASE WHEN error_class = 'timeout' THEN 1 ELSE 0 END) AS failed_timeout,
           sum(CASE WHEN error_class = 'refused' THEN 1 ELSE 0 END) AS failed_refused,
           sum(CASE WHEN error_class = 'parse' THEN 1 ELSE 0 END) AS failed_parsed,
           sum(CASE WHEN error_class IN ('http_4xx', 'http_5xx', 'other') THEN 1 ELSE 0 END) AS failed_others,
           avg(elapsed_ms) AS average_resp_time,
           min(elapsed_ms) AS min_resp_time,
           max(elapsed_ms) AS max_resp_time,
           quantile_disc(elapsed_ms, %(pcts)s) AS tp,
           min(start_ms) AS start_ms,
           max(end_ms) AS end_ms,
           avg(bytes_received) AS avg_rec_bytes, max(bytes_received) AS max_rec_bytes,
           avg(bytes_sent) AS avg_sent_bytes, max(bytes_sent) AS max_sent_bytes,
           sum(traffic) AS traffic,
           sum(CASE WHEN response_code LIKE '1__' THEN 1 ELSE 0 END) AS sum1xx,
           sum(CASE WHEN response_code LIKE '2__' THEN 1 ELSE 0 END) AS sum2xx,
           sum(CASE WHEN response_code LIKE '3__' THEN 1 ELSE 0 END) AS sum3xx,
           sum(CASE WHEN response_code LIKE '4__' THEN 1 ELSE 0 END) AS sum4xx,
           sum(CASE WHEN response_code LIKE '5__' THEN 1 ELSE 0 END) AS sum5xx,
           max(grp_threads) AS current_thread_num
    FROM keyed GROUP BY level, case_name, name
)
SELECT agg.level, agg.case_name, agg.name, requests, success_count, error_count,
       failed_assert, failed_timeout, failed_refused, failed_parsed, failed_others,
       average_resp_time, min_resp_time, max_resp_time,
       tp[1] AS tp50, tp[2] AS tp75, tp[3] AS tp85, tp[4] AS tp90,
       tp[5] AS tp95, tp[6] AS tp99, tp[7] AS tp999, tp[8] AS tp9999,
       start_ms, end_ms,
       avg_rec_bytes, max_rec_bytes, avg_sent_bytes, max_sent_bytes,
       traffic, max_traffic_per_second,
       sum1xx, sum2xx, sum3xx, sum4xx, sum5xx, current_thread_num
FROM agg JOIN peak ON agg.level = peak.level AND agg.case_name = peak.case_name AND agg.name = peak.name
ORDER BY CASE agg.level WHEN 'case' THEN 0 WHEN 'request' THEN 1 ELSE 2 END, agg.case_name, agg.name
""" % {"pcts": q_list(PCTS)}

ERROR_CLASSES = """
SELECT error_class, count(*) AS samples FROM samples WHERE kind = 'sample'
GROUP BY error_class ORDER BY samples DESC, error_class
"""

CURVE = """
SELECT (epoch_ms(ts) // 1000) * 1000 AS t,
       count(*) AS requests,
       sum(CASE WHEN success THEN 1 ELSE 0 END) AS success,
       sum(CASE WHEN success THEN 0 ELSE 1 END) AS error,
       sum(CASE WHEN error_class = 'timeout' THEN 1 ELSE 0 END) AS timeout,
       sum(CASE WHEN error_class = 'refused' THEN 1 ELSE 0 END) AS refused_failed,
       sum(CASE WHEN error_class = 'parse' THEN 1 ELSE 0 END) AS parsed_failed,
       sum(CASE WHEN error_class = 'assertion' THEN 1 ELSE 0 END) AS check_point_failed,
       sum(CASE WHEN error_class IN ('http_4xx', 'http_5xx', 'other') THEN 1 ELSE 0 END) AS others_failed,
       avg(elapsed_ms) AS avg_rt,
       quantile_disc(elapsed_ms, %(pcts)s) AS p,
       max(all_threads) AS vusers,
       sum(bytes_received) AS rec_bytes,
       sum(bytes_sent) AS sent_bytes
FROM samples
WHERE kind = 'sample' AND ts IS NOT NULL
GROUP BY epoch_ms(ts) // 1000
ORDER BY t
""" % {"pcts": q_list(CURVE_PCTS)}


def ranges_sql(bounds):
    parts, lo = [], None
    for b in bounds:
        cond = "elapsed_ms < %d" % b if lo is None else "elapsed_ms >= %d AND elapsed_ms < %d" % (lo, b)
        parts.append("count(*) FILTER (WHERE %s)" % cond)
        lo = b
    parts.append("count(*) FILTER (WHERE elapsed_ms >= %d)" % lo)
    return ("SELECT [%s] AS counts, count(elapsed_ms) AS total FROM samples WHERE kind = 'sample'"
            % ", ".join(parts))


def rows_as_dicts(cur):
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def cmd_duck(store, run, threads, out, ranges=None):
    bounds = [int(b) for b in ranges.split(",")] if ranges else DEFAULT_RANGES
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = %d" % int(threads))
    con.execute("SET enable_progress_bar = false")
    # The report: the four queries of `loadlake report`.
    t0 = time.perf_counter()
    con.execute(samples_view(store, run))
    outline = rows_as_dicts(con.execute(OUTLINE))
    details = rows_as_dicts(con.execute(DETAILS))
    ranges_row = rows_as_dicts(con.execute(ranges_sql(bounds)))
    errors = rows_as_dicts(con.execute(ERROR_CLASSES))
    t1 = time.perf_counter()
    # The 1 s curve (`loadlake curve RUN --interval 1s`), on a fresh view like a fresh process.
    con.execute(samples_view(store, run))
    curve = rows_as_dicts(con.execute(CURVE))
    t2 = time.perf_counter()
    result = {"outline": outline, "details": details, "ranges": ranges_row, "bounds": bounds,
              "error_classes": errors, "curve": curve}
    with open(out, "w") as f:
        json.dump(result, f, default=str)
    print("%.3f %.3f" % (t1 - t0, t2 - t1))


def cmd_find_run(runs_json, name, samples):
    with open(runs_json) as f:
        text = f.read().strip()
    runs = json.loads(text) if text else []
    for r in runs:
        if r.get("name") == name and int(r.get("samples") or -1) == int(samples) \
                and r.get("status", "complete") == "complete":
            print(r["run_id"])
            return


# ------------------------------------------------------------------ verify
class Checker:
    def __init__(self):
        self.compared = 0
        self.mismatches = []

    def eq(self, what, ours, theirs, rel=1e-9):
        """Exact for integers, relative tolerance for floats (sums in another order)."""
        self.compared += 1
        if ours is None or theirs is None:
            ok = ours is None and theirs is None
        else:
            a, b = float(ours), float(theirs)
            ok = a == b or abs(a - b) <= rel * max(abs(a), abs(b), 1.0)
        if not ok:
            self.mismatches.append("%s: loadlake %r, DuckDB %r" % (what, ours, theirs))
        return ok


def cmd_verify(report_json, curve_json, duck_json, udaf_csv, builtin_csv, store, run):
    with open(report_json) as f:
        rep = json.load(f)
    with open(curve_json) as f:
        cur = json.load(f)
    with open(duck_json) as f:
        duck = json.load(f)
    c = Checker()

    # Outline
    o, d = rep["outline"], duck["outline"][0]
    for ours, theirs in [("startTime", "start_ms"), ("endTime", "end_ms"), ("requests", "requests"),
                         ("averageRespTime", "average_resp_time"), ("maxUsers", "max_users"),
                         ("executedCases", "executed_cases"), ("passCases", "pass_cases"),
                         ("vum", "vum")]:
        c.eq("outline." + ours, o.get(ours), d[theirs])
    if d["requests"]:
        c.eq("outline.successRate", o.get("successRate"), d["success_count"] * 100.0 / d["requests"])

    # Details: every row, every number
    fields = [("requests", "requests"), ("successCount", "success_count"), ("errorCount", "error_count"),
              ("failedAssert", "failed_assert"), ("failedTimeout", "failed_timeout"),
              ("failedRefused", "failed_refused"), ("failedParsed", "failed_parsed"),
              ("failedOthers", "failed_others"), ("averageRespTime", "average_resp_time"),
              ("min", "min_resp_time"), ("max", "max_resp_time"),
              ("tp50", "tp50"), ("tp75", "tp75"), ("tp85", "tp85"), ("tp90", "tp90"),
              ("tp95", "tp95"), ("tp99", "tp99"), ("tp999", "tp999"), ("tp9999", "tp9999"),
              ("startTime", "start_ms"), ("endTime", "end_ms"),
              ("avgRecBytes", "avg_rec_bytes"), ("maxRecBytes", "max_rec_bytes"),
              ("avgSentBytes", "avg_sent_bytes"), ("maxSentBytes", "max_sent_bytes"),
              ("maxNetworkTraffic", "max_traffic_per_second"),
              ("sum1xx", "sum1xx"), ("sum2xx", "sum2xx"), ("sum3xx", "sum3xx"),
              ("sum4xx", "sum4xx"), ("sum5xx", "sum5xx"), ("currentThreadNum", "current_thread_num")]
    key = lambda r, a, b, e: (r[a], r[b], r[e])
    ours_rows = {key(r, "level", "caseName", "name"): r for r in rep["details"]}
    duck_rows = {key(r, "level", "case_name", "name"): r for r in duck["details"]}
    if set(ours_rows) != set(duck_rows):
        c.mismatches.append("detail rows differ: only loadlake %s, only DuckDB %s"
                            % (sorted(set(ours_rows) - set(duck_rows))[:5],
                               sorted(set(duck_rows) - set(ours_rows))[:5]))
    pct_checked = 0
    for k in sorted(set(ours_rows) & set(duck_rows)):
        r, dr = ours_rows[k], duck_rows[k]
        for ours, theirs in fields:
            c.eq("details%s.%s" % (list(k), ours), r.get(ours), dr[theirs])
            pct_checked += ours.startswith("tp")

    # Ranges and error classes
    counts = duck["ranges"][0]["counts"]
    got = [x["count"] for x in rep.get("respTimeRange", [])]
    c.compared += 1
    if got != counts:
        c.mismatches.append("respTimeRange counts: loadlake %s, DuckDB %s" % (got, counts))
    got = {e["errorClass"]: e["samples"] for e in rep.get("errorClasses", [])}
    want = {e["error_class"]: e["samples"] for e in duck["error_classes"]}
    c.compared += 1
    if got != want:
        c.mismatches.append("errorClasses: loadlake %s, DuckDB %s" % (got, want))

    # Curve: the brokens arrays, point by point
    b = cur["brokens"]
    ts = b["commonTimestamps"]
    dpts = duck["curve"]
    if [int(t) for t in ts] != [int(p["t"]) for p in dpts]:
        c.mismatches.append("curve timestamps differ (%d points vs %d)" % (len(ts), len(dpts)))
    else:
        series = [("tps_brokens", "avgRt", lambda p: p["avg_rt"]),
                  ("vusers_brokens", "vusers", lambda p: p["vusers"]),
                  ("bytes_brokens", "recBytes", lambda p: p["rec_bytes"]),
                  ("bytes_brokens", "sentBytes", lambda p: p["sent_bytes"]),
                  ("code_brokens", "success", lambda p: p["success"]),
                  ("code_brokens", "error", lambda p: p["error"]),
                  ("code_brokens", "timeout", lambda p: p["timeout"]),
                  ("code_brokens", "refusedFailed", lambda p: p["refused_failed"]),
                  ("code_brokens", "parsedFailed", lambda p: p["parsed_failed"]),
                  ("code_brokens", "checkPointFailed", lambda p: p["check_point_failed"]),
                  ("code_brokens", "othersFailed", lambda p: p["others_failed"]),
                  ("tps_brokens", "tps", lambda p: p["requests"] * 1000.0 / cur["intervalMs"])]
        for i, pname in enumerate(["p50", "p90", "p95", "p99"]):
            series.append(("percentile_brokens", pname, lambda p, i=i: p["p"][i]))
        for group, name, get in series:
            for t, v, p in zip(ts, b[group][name], dpts):
                c.eq("curve[t=%s].%s" % (int(t), name), v, get(p))

    # The two per-label queries of the UDAF comparison
    import duckdb
    con = duckdb.connect()
    con.execute(samples_view(store, run))
    nearest = {r[0]: r[1] for r in con.execute(
        "SELECT label, quantile_disc(elapsed_ms, %s) FROM samples GROUP BY label" % q_list(PCTS)).fetchall()}
    linear = {r[0]: r[1] for r in con.execute(
        "SELECT label, quantile_cont(elapsed_ms, %s) FROM samples GROUP BY label" % q_list(PCTS)).fetchall()}
    names = ["p50", "p75", "p85", "p90", "p95", "p99", "p999", "p9999"]
    for path, want, rel, what in [(udaf_csv, nearest, 1e-12, "udaf nearest-rank vs quantile_disc"),
                                  (builtin_csv, linear, 1e-3, "percentile_cont vs quantile_cont")]:
        with open(path) as f:
            rows = list(csv.DictReader(f))
        if sorted(r["label"] for r in rows) != sorted(want):
            c.mismatches.append("%s: labels differ" % what)
            continue
        for r in rows:
            for i, n in enumerate(names):
                # percentile_cont quantises its interpolation weight (DataFusion), hence rel 1e-3
                c.eq("%s[%s].%s" % (what, r["label"], n), float(r[n]), want[r["label"]][i], rel)

    # One value shown in full: p90 of the busiest request
    req = [r for r in rep["details"] if r["level"] == "request"]
    if req:
        top = max(req, key=lambda r: r["requests"])
        dtop = duck_rows.get(("request", top["caseName"], top["name"]))
        print("p90 of '%s' (%d samples): loadlake %s (nearest-rank), DuckDB quantile_disc %s"
              % (top["name"], top["requests"], top["tp90"], dtop and dtop["tp90"]))
    print("compared %d values (%d detail percentiles, %d curve points): %d mismatches"
          % (c.compared, pct_checked, len(ts), len(c.mismatches)))
    for m in c.mismatches[:20]:
        print("  MISMATCH " + m)
    if len(c.mismatches) > 20:
        print("  ... and %d more" % (len(c.mismatches) - 20))
    sys.exit(1 if c.mismatches else 0)


if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if cmd == "duck" and len(args) in (4, 5):
        cmd_duck(*args)
    elif cmd == "find-run" and len(args) == 3:
        cmd_find_run(*args)
    elif cmd == "verify" and len(args) == 7:
        cmd_verify(*args)
    else:
        sys.exit(__doc__)
