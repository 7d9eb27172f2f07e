-- Curve (CodeArts brokens / AW chart) of run $1: one point per interval of $2 ms (aligned to
-- multiples of $2 since the epoch, by sample start), over top-level samples, optionally of one
-- case ($3) and one request label ($4) (NULL = all). Percentiles are exact per interval
-- ($5 = percentile method); merging intervals for --points is done by asking for a wider
-- interval, so every point is computed from its samples, never from other points.
SELECT (floor(cast(ts AS BIGINT) / $2) * $2) AS t,
       count(*) AS requests,
       sum(CASE WHEN success THEN 1 ELSE 0 END) AS success,
       sum(CASE WHEN success THEN 0 ELSE 1 END) AS error,
       sum(CASE WHEN error_family(error_class) = 'timeout' THEN 1 ELSE 0 END) AS timeout,
       sum(CASE WHEN error_family(error_class) = 'refused' THEN 1 ELSE 0 END) AS refused_failed,
       sum(CASE WHEN error_family(error_class) = 'parse' THEN 1 ELSE 0 END) AS parsed_failed,
       sum(CASE WHEN error_family(error_class) = 'assertion' THEN 1 ELSE 0 END) AS check_point_failed,
       sum(CASE WHEN error_family(error_class) = 'others' THEN 1 ELSE 0 END) AS others_failed,
       avg(elapsed_ms) AS avg_rt,
       hist_percentile(ms_histogram(elapsed_ms), 0.50, $5) AS p50,
       hist_percentile(ms_histogram(elapsed_ms), 0.90, $5) AS p90,
       hist_percentile(ms_histogram(elapsed_ms), 0.95, $5) AS p95,
       hist_percentile(ms_histogram(elapsed_ms), 0.99, $5) AS p99,
       max(all_threads) AS vusers,
       sum(bytes_received) AS rec_bytes,
       sum(bytes_sent) AS sent_bytes
FROM samples
WHERE run_id = $1 AND kind = 'sample' AND ts IS NOT NULL
  AND ($3 IS NULL OR case_name = $3)
  AND ($4 IS NULL OR label = $4)
GROUP BY floor(cast(ts AS BIGINT) / $2)
ORDER BY t
