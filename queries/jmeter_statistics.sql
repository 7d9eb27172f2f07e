-- JMeter dashboard "Statistics" table, computed exactly (loadlake's default).
-- $1 run id, $2 $3 $4 the three percentiles (0-100), $5 percentile method
-- ('nearest-rank', 'linear', 'jmeter-aggregate', 'legacy').
-- Rows: one per label over every sample of that label (transactions in their own rows, as in
-- JMeter), then "Total" over top-level samples only: transactions and sub-samples are already
-- counted through their children / parents, so they never count twice (unlike JMeter's Total,
-- which adds sub-results, apache/jmeter#6236). Empty transactions ("... : 0") are skipped.
WITH s AS (
    SELECT * FROM samples
    WHERE run_id = $1
      AND NOT is_empty_transaction(response_message)
),
grouped AS (
    SELECT label AS transaction, 0 AS total_row,
           count(*) AS sample_count,
           sum(CASE WHEN success THEN 0 ELSE 1 END) AS error_count,
           avg(elapsed_ms) AS mean_res_time,
           ms_histogram(elapsed_ms) AS h,
           min(elapsed_ms) AS min_res_time, max(elapsed_ms) AS max_res_time,
           min(cast(ts AS BIGINT)) AS first_start,
           max(cast(ts AS BIGINT) + elapsed_ms / time_scale()) AS last_end,
           sum(bytes_received) AS bytes_received, sum(bytes_sent) AS bytes_sent
    FROM s GROUP BY label
    UNION ALL
    SELECT 'Total', 1,
           count(*), sum(CASE WHEN success THEN 0 ELSE 1 END), avg(elapsed_ms),
           ms_histogram(elapsed_ms), min(elapsed_ms), max(elapsed_ms),
           min(cast(ts AS BIGINT)), max(cast(ts AS BIGINT) + elapsed_ms / time_scale()),
           sum(bytes_received), sum(bytes_sent)
    FROM s WHERE kind = 'sample'
)
SELECT transaction,
       sample_count,
       error_count,
       mean_res_time,
       hist_percentile(h, 0.50, $5) AS median_res_time,
       min_res_time,
       max_res_time,
       hist_percentile(h, $2 / 100.0, $5) AS pct1_res_time,
       hist_percentile(h, $3 / 100.0, $5) AS pct2_res_time,
       hist_percentile(h, $4 / 100.0, $5) AS pct3_res_time,
       first_start,
       last_end,
       bytes_received,
       bytes_sent
FROM grouped
ORDER BY total_row, transaction
