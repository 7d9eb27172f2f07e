-- Details per case, per request (AW) and per transaction (CodeArts DetailDataInfo /
-- CaseReportDetail). $1 run id. Percentiles (tp50 … tp9999 and any --percentiles) are read from
-- each row's exact `histogram` (ms_histogram) by crates/query/src/reports/run_report.rs.
-- Counted: top-level samples and transactions in their own rows. Sub-samples are inside their
-- parents and empty transactions ("... : 0") carry nothing; both are left out.
-- level 'case' = a thread group's requests (transactions excluded: they repeat their children),
-- level 'request' = one sampler label in one case, level 'transaction' = one transaction.
--
-- One scan: both levels come from GROUPING SETS over the same rows. The case-level key
-- `case_of_sample` is NULL for transactions, so they fall into one NULL group that HAVING drops
-- (a CTE used twice would be computed twice: DataFusion inlines CTEs).
WITH s AS (
    SELECT CASE WHEN kind = 'sample' THEN coalesce(case_name, '') END AS case_of_sample,
           coalesce(case_name, '') AS case_name, label, kind, elapsed_ms, success, error_class,
           CASE WHEN character_length(response_code) = 3 THEN left(response_code, 1) END AS code_family,
           bytes_received, bytes_sent, grp_threads,
           cast(ts AS BIGINT) AS start_ms,
           coalesce(bytes_received, 0) + coalesce(bytes_sent, 0) AS traffic
    FROM samples
    WHERE run_id = $1 AND kind <> 'subsample'
      AND NOT is_empty_transaction(response_message)
),
agg AS (
    SELECT CASE WHEN grouping(label) = 1 THEN 'case'
                WHEN kind = 'transaction' THEN 'transaction' ELSE 'request' END AS level,
           coalesce(case_of_sample, case_name) AS case_name, coalesce(label, '') AS name,
           count(*) AS requests,
           sum(CASE WHEN success THEN 1 ELSE 0 END) AS success_count,
           sum(CASE WHEN success THEN 0 ELSE 1 END) AS error_count,
           sum(CASE WHEN error_family(error_class) = 'assertion' THEN 1 ELSE 0 END) AS failed_assert,
           sum(CASE WHEN error_family(error_class) = 'timeout' THEN 1 ELSE 0 END) AS failed_timeout,
           sum(CASE WHEN error_family(error_class) = 'refused' THEN 1 ELSE 0 END) AS failed_refused,
           sum(CASE WHEN error_family(error_class) = 'parse' THEN 1 ELSE 0 END) AS failed_parsed,
           sum(CASE WHEN error_family(error_class) = 'others' THEN 1 ELSE 0 END) AS failed_others,
           avg(elapsed_ms) AS average_resp_time,
           min(elapsed_ms) AS min_resp_time,
           max(elapsed_ms) AS max_resp_time,
           ms_histogram(elapsed_ms) AS histogram,
           min(start_ms) AS start_ms,
           max(start_ms + elapsed_ms / time_scale()) AS end_ms,
           avg(bytes_received) AS avg_rec_bytes, max(bytes_received) AS max_rec_bytes,
           avg(bytes_sent) AS avg_sent_bytes, max(bytes_sent) AS max_sent_bytes,
           sum(traffic) AS traffic,
           sum(CASE WHEN code_family = '1' THEN 1 ELSE 0 END) AS sum1xx,
           sum(CASE WHEN code_family = '2' THEN 1 ELSE 0 END) AS sum2xx,
           sum(CASE WHEN code_family = '3' THEN 1 ELSE 0 END) AS sum3xx,
           sum(CASE WHEN code_family = '4' THEN 1 ELSE 0 END) AS sum4xx,
           sum(CASE WHEN code_family = '5' THEN 1 ELSE 0 END) AS sum5xx,
           max(grp_threads) AS current_thread_num
    FROM s
    GROUP BY GROUPING SETS ((case_of_sample), (case_name, label, kind))
    HAVING grouping(label) = 0 OR case_of_sample IS NOT NULL
),
per_second AS (
    SELECT CASE WHEN grouping(label) = 1 THEN 'case'
                WHEN kind = 'transaction' THEN 'transaction' ELSE 'request' END AS level,
           coalesce(case_of_sample, case_name) AS case_name, coalesce(label, '') AS name,
           sum(traffic) AS traffic
    FROM s
    GROUP BY GROUPING SETS ((case_of_sample, floor(start_ms / 1000)), (case_name, label, kind, floor(start_ms / 1000)))
    HAVING grouping(label) = 0 OR case_of_sample IS NOT NULL
),
peak AS (
    SELECT level, case_name, name, max(traffic) AS max_traffic_per_second
    FROM per_second GROUP BY level, case_name, name
)
SELECT agg.level, agg.case_name, agg.name, requests, success_count, error_count,
       failed_assert, failed_timeout, failed_refused, failed_parsed, failed_others,
       average_resp_time, min_resp_time, max_resp_time, histogram,
       start_ms, end_ms,
       avg_rec_bytes, max_rec_bytes, avg_sent_bytes, max_sent_bytes,
       traffic, max_traffic_per_second,
       sum1xx, sum2xx, sum3xx, sum4xx, sum5xx, current_thread_num
FROM agg JOIN peak ON agg.level = peak.level AND agg.case_name = peak.case_name AND agg.name = peak.name
ORDER BY CASE agg.level WHEN 'case' THEN 0 WHEN 'request' THEN 1 ELSE 2 END, agg.case_name, agg.name
