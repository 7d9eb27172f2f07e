-- First and last sample start of the curve's samples (same filters as curve.sql), to choose the
-- interval that gives at most --points points.
SELECT min(cast(ts AS BIGINT)) AS first_ms, max(cast(ts AS BIGINT)) AS last_ms
FROM samples
WHERE run_id = $1 AND kind = 'sample' AND ts IS NOT NULL
  AND ($2 IS NULL OR case_name = $2)
  AND ($3 IS NULL OR label = $3)
