-- Per-label summary of one run ($1 = run id): what `loadlake quickstart` prints until the full
-- report engine lands. Sub-samples are left out so that nothing is counted twice.
SELECT
    label,
    kind,
    count(*) AS samples,
    sum(CASE WHEN success THEN 0 ELSE 1 END) AS errors,
    round(avg(elapsed_ms), 1) AS avg_ms,
    min(elapsed_ms) AS min_ms,
    max(elapsed_ms) AS max_ms
FROM samples
WHERE run_id = $1 AND kind <> 'subsample'
GROUP BY label, kind
ORDER BY label
