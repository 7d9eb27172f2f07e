-- Details per case, per request (AW) and per transaction (CodeArts DetailDataInfo /
-- CaseReportDetail). $1 run id. Percentiles (tp50 … tp9999 and any --percentiles) are read from
-- each row's exact `histogram` (ms_histogram) by crates/query/src/reports/run_report.rs.
-- Counted: top-level samples and transactions in their own rows. Sub-samples are inside their
-- parents and empty transactions ("... : 0") carry nothing; both are left out.
-- level 'case' = a thread group's requests (transactions excluded: they repeat their children),
-- level 'request' = one sampler label in one case, level 'transaction' = one transaction.
WITH s AS (
    SELECT coalesce(case_name, '') AS case_name, label, kind, elapsed_ms, success, error_class,
           response_code, bytes_received, bytes_sent, grp_threads,
           cast(ts AS BIGINT) AS start_ms, cast(ts AS BIGINT) + elapsed_ms AS end_ms,
           coalesce(bytes_received, 0) + coalesce(bytes_sent, 0) AS traffic
    FROM samples
    WHERE run_id = $1 AND kind <> 'subsample'
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
    FROM keyed GROUP BY level, case_name, name, floor(start_ms / 1000)
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
           ms_histogram(elapsed_ms) AS h,
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
       h AS histogram,
       start_ms, end_ms,
       avg_rec_bytes, max_rec_bytes, avg_sent_bytes, max_sent_bytes,
       traffic, max_traffic_per_second,
       sum1xx, sum2xx, sum3xx, sum4xx, sum5xx, current_thread_num
FROM agg JOIN peak ON agg.level = peak.level AND agg.case_name = peak.case_name AND agg.name = peak.name
ORDER BY CASE agg.level WHEN 'case' THEN 0 WHEN 'request' THEN 1 ELSE 2 END, agg.case_name, agg.name
