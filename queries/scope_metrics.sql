-- The headline numbers of one scope of run $1, for SLA rules and trends: the whole run
-- ($2 and $3 NULL), one case ($2 = case name, $3 NULL) or one request / transaction label ($3,
-- in case $2 if given). The same rows as the matching report rows: the run and a case count
-- their top-level samples (the outline and the details' case rows), a label counts its samples or
-- its transactions, without empty transactions (the details' request / transaction rows).
-- $4 = a percentile (0-100) and $5 its method, computed exactly from the scope's histogram.
SELECT count(*) AS requests,
       sum(CASE WHEN success THEN 1 ELSE 0 END) AS success_count,
       sum(CASE WHEN error_family(error_class) = 'assertion' THEN 1 ELSE 0 END) AS failed_assert,
       sum(CASE WHEN error_family(error_class) = 'timeout' THEN 1 ELSE 0 END) AS failed_timeout,
       sum(CASE WHEN error_family(error_class) = 'refused' THEN 1 ELSE 0 END) AS failed_refused,
       sum(CASE WHEN error_family(error_class) = 'parse' THEN 1 ELSE 0 END) AS failed_parsed,
       sum(CASE WHEN error_family(error_class) = 'others' THEN 1 ELSE 0 END) AS failed_others,
       avg(elapsed_ms) AS average_resp_time,
       min(elapsed_ms) AS min_resp_time,
       max(elapsed_ms) AS max_resp_time,
       hist_percentile(ms_histogram(elapsed_ms), $4 / 100.0, $5) AS percentile,
       min(cast(ts AS BIGINT)) AS start_ms,
       max(cast(ts AS BIGINT) + elapsed_ms / time_scale()) AS end_ms
FROM samples
WHERE run_id = $1
  AND ($2 IS NULL OR coalesce(case_name, '') = $2)
  AND CASE WHEN $3 IS NULL THEN kind = 'sample'
           ELSE label = $3 AND kind <> 'subsample'
                AND NOT is_empty_transaction(response_message)
      END
