-- JMeter dashboard "Statistics" table exactly as JMeter 5.x computes it
-- (--percentile-method jmeter-dashboard; ../shared/design/jmeter-notes.md §4.5, §4.8):
-- samples in file order ("row"), commons-math streaming mean, LEGACY percentiles over the last
-- $5 values (jmeter.reportgenerator.statistic_window, default 20000), Total excluding only
-- transaction samples (sub-results included, as JMeter does). $1 run id, $2 $3 $4 percentiles.
WITH s AS (
    SELECT * FROM samples
    WHERE run_id = $1
      AND NOT is_empty_transaction(response_message)
),
grouped AS (
    SELECT label AS transaction, 0 AS total_row,
           count(*) AS sample_count,
           sum(CASE WHEN success THEN 0 ELSE 1 END) AS error_count,
           array_agg(elapsed_ms ORDER BY "row") AS v,
           min(elapsed_ms) AS min_res_time, max(elapsed_ms) AS max_res_time,
           min(cast(ts AS BIGINT)) AS first_start,
           max(cast(ts AS BIGINT) + elapsed_ms / time_scale()) AS last_end,
           sum(bytes_received) AS bytes_received, sum(bytes_sent) AS bytes_sent
    FROM s GROUP BY label
    UNION ALL
    SELECT 'Total', 1,
           count(*), sum(CASE WHEN success THEN 0 ELSE 1 END),
           array_agg(elapsed_ms ORDER BY "row"), min(elapsed_ms), max(elapsed_ms),
           min(cast(ts AS BIGINT)), max(cast(ts AS BIGINT) + elapsed_ms / time_scale()),
           sum(bytes_received), sum(bytes_sent)
    FROM s WHERE kind <> 'transaction'
)
SELECT transaction,
       sample_count,
       error_count,
       jmeter_mean(v) AS mean_res_time,
       jmeter_window_percentile(v, 0.50, $5) AS median_res_time,
       min_res_time,
       max_res_time,
       jmeter_window_percentile(v, $2 / 100.0, $5) AS pct1_res_time,
       jmeter_window_percentile(v, $3 / 100.0, $5) AS pct2_res_time,
       jmeter_window_percentile(v, $4 / 100.0, $5) AS pct3_res_time,
       first_start,
       last_end,
       bytes_received,
       bytes_sent
FROM grouped
ORDER BY total_row, transaction
