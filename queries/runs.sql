-- loadlake runs: one line per run, newest first.
-- Columns of the `runs` table: docs/schema.md.
SELECT
    run_id,
    name,
    tags,
    samples,
    errors,
    first_ts AS start,
    CAST(duration_ms AS DOUBLE) / 1000.0 AS duration_s,
    status
FROM runs
ORDER BY run_id DESC
