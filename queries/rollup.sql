-- The rollup of run $1: per case, label, kind and "empty transaction or not", the counters and
-- the exact millisecond histogram that every scope of queries/scope_metrics.sql is made of, so
-- that queries/scope_metrics_rollups.sql gives the same numbers without reading the samples.
-- Written once per committed run, as rollups/run_id=<id>/rollup.parquet (docs/schema.md).
SELECT case_name,
       label,
       kind,
       is_empty_transaction(response_message) AS empty_transaction,
       count(*) AS samples,
       sum(CASE WHEN success THEN 1 ELSE 0 END) AS successes,
       sum(CASE WHEN error_family(error_class) = 'assertion' THEN 1 ELSE 0 END) AS failed_assert,
       sum(CASE WHEN error_family(error_class) = 'timeout' THEN 1 ELSE 0 END) AS failed_timeout,
       sum(CASE WHEN error_family(error_class) = 'refused' THEN 1 ELSE 0 END) AS failed_refused,
       sum(CASE WHEN error_family(error_class) = 'parse' THEN 1 ELSE 0 END) AS failed_parsed,
       sum(CASE WHEN error_family(error_class) = 'others' THEN 1 ELSE 0 END) AS failed_others,
       sum(elapsed_ms) AS elapsed_sum,
       min(elapsed_ms) AS min_elapsed,
       max(elapsed_ms) AS max_elapsed,
       ms_histogram(elapsed_ms) AS histogram,
       min(cast(ts AS BIGINT)) AS start_ms,
       max(cast(ts AS BIGINT) + elapsed_ms / time_scale()) AS end_ms
FROM samples
WHERE run_id = $1
GROUP BY case_name, label, kind, is_empty_transaction(response_message)
