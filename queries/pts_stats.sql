-- Alibaba PTS scene statistics of run $1 (GetJMeterSceneRunningData AllSampleStat and
-- SampleStatList): top-level samples, all together (all_row = 1) and per sampler label.
-- Rates use the run's span (first start → last end of all its top-level samples), so that
-- successTps + failTps = tps, and per-sampler rates add up to the scene's. $2 = percentile method.
WITH s AS (
    SELECT label, success, elapsed_ms, bytes_sent, all_threads, grp_threads,
           cast(ts AS BIGINT) AS start_ms, cast(ts AS BIGINT) + elapsed_ms / time_scale() AS end_ms
    FROM samples
    WHERE run_id = $1 AND kind = 'sample'
),
span AS (
    SELECT max(end_ms) - min(start_ms) AS span_ms FROM s
),
grouped AS (
    SELECT 0 AS all_row, label AS name,
           count(*) AS count,
           sum(CASE WHEN success THEN 1 ELSE 0 END) AS success_count,
           avg(elapsed_ms) AS rt_avg, min(elapsed_ms) AS rt_min, max(elapsed_ms) AS rt_max,
           avg(CASE WHEN success THEN elapsed_ms END) AS success_rt_avg,
           min(CASE WHEN success THEN elapsed_ms END) AS success_rt_min,
           max(CASE WHEN success THEN elapsed_ms END) AS success_rt_max,
           sum(CASE WHEN success THEN elapsed_ms END) AS success_rt_sum,
           avg(CASE WHEN success THEN NULL ELSE elapsed_ms END) AS fail_rt_avg,
           min(CASE WHEN success THEN NULL ELSE elapsed_ms END) AS fail_rt_min,
           max(CASE WHEN success THEN NULL ELSE elapsed_ms END) AS fail_rt_max,
           sum(CASE WHEN success THEN NULL ELSE elapsed_ms END) AS fail_rt_sum,
           ms_histogram(elapsed_ms) AS h,
           max(grp_threads) AS concurrency,
           sum(bytes_sent) AS request_bytes_sum
    FROM s GROUP BY label
    UNION ALL
    SELECT 1, '', count(*), sum(CASE WHEN success THEN 1 ELSE 0 END),
           avg(elapsed_ms), min(elapsed_ms), max(elapsed_ms),
           avg(CASE WHEN success THEN elapsed_ms END), min(CASE WHEN success THEN elapsed_ms END),
           max(CASE WHEN success THEN elapsed_ms END), sum(CASE WHEN success THEN elapsed_ms END),
           avg(CASE WHEN success THEN NULL ELSE elapsed_ms END), min(CASE WHEN success THEN NULL ELSE elapsed_ms END),
           max(CASE WHEN success THEN NULL ELSE elapsed_ms END), sum(CASE WHEN success THEN NULL ELSE elapsed_ms END),
           ms_histogram(elapsed_ms), max(all_threads), sum(bytes_sent)
    FROM s
)
SELECT all_row, name, count, success_count, rt_avg, rt_min, rt_max,
       success_rt_avg, success_rt_min, success_rt_max, success_rt_sum,
       fail_rt_avg, fail_rt_min, fail_rt_max, fail_rt_sum,
       hist_percentile(h, 0.50, $2) AS rt_seg50,
       hist_percentile(h, 0.90, $2) AS rt_seg90,
       hist_percentile(h, 0.99, $2) AS rt_seg99,
       concurrency, request_bytes_sum,
       (SELECT span_ms FROM span) AS span_ms
FROM grouped
ORDER BY all_row DESC, name
