-- Report outline (CodeArts ReportoutlineInfo) over the top-level samples of run $1.
-- VUM (virtual-user minutes) = Σ over the run's seconds of the most active threads seen in that
-- second (max allThreads), / 60.
WITH s AS (
    SELECT coalesce(case_name, '') AS case_name, elapsed_ms, success, all_threads,
           cast(ts AS BIGINT) AS start_ms, cast(ts AS BIGINT) + elapsed_ms / time_scale() AS end_ms
    FROM samples
    WHERE run_id = $1 AND kind = 'sample'
),
users_per_second AS (
    SELECT max(all_threads) AS users FROM s GROUP BY floor(start_ms / 1000)
),
failed_cases AS (
    SELECT count(DISTINCT case_name) AS n FROM s WHERE NOT success
)
SELECT min(start_ms) AS start_ms,
       max(end_ms) AS end_ms,
       count(*) AS requests,
       sum(CASE WHEN success THEN 1 ELSE 0 END) AS success_count,
       avg(elapsed_ms) AS average_resp_time,
       max(all_threads) AS max_users,
       count(DISTINCT case_name) AS executed_cases,
       count(DISTINCT case_name) - (SELECT n FROM failed_cases) AS pass_cases,
       (SELECT sum(users) FROM users_per_second) / 60.0 AS vum
FROM s
