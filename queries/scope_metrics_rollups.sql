-- queries/scope_metrics.sql for many runs at once, from their rollups (queries/rollup.sql)
-- instead of their samples: one row per run of the list of run ids $1 that has rows in
-- the scope ($2 case or NULL, $3 label or NULL, the same rule as scope_metrics.sql); $4 = a
-- percentile (0-100) and $5 its method, from the merged exact histograms. Counts, sums, minima,
-- maxima and histograms merge without loss, so every number equals scope_metrics.sql's.
SELECT run_id,
       sum(samples) AS requests,
       sum(successes) AS success_count,
       sum(failed_assert) AS failed_assert,
       sum(failed_timeout) AS failed_timeout,
       sum(failed_refused) AS failed_refused,
       sum(failed_parsed) AS failed_parsed,
       sum(failed_others) AS failed_others,
       cast(sum(elapsed_sum) AS DOUBLE) / sum(samples) AS average_resp_time,
       min(min_elapsed) AS min_resp_time,
       max(max_elapsed) AS max_resp_time,
       hist_percentile(hist_merge(histogram), $4 / 100.0, $5) AS percentile,
       min(start_ms) AS start_ms,
       max(end_ms) AS end_ms
FROM rollups
WHERE array_has($1, run_id)
  AND ($2 IS NULL OR coalesce(case_name, '') = $2)
  AND CASE WHEN $3 IS NULL THEN kind = 'sample'
           ELSE label = $3 AND kind <> 'subsample' AND NOT empty_transaction
      END
GROUP BY run_id
