-- Response-time ranges (respTimeRange) of the top-level samples of run $1, optionally of one
-- case ($3) and one request label ($4) (NULL = all): counts per half-open interval
-- [b(i-1), b(i)) of the boundaries $2 (ms, ascending), the last one open.
SELECT hist_range_counts(ms_histogram(elapsed_ms), $2) AS counts, count(elapsed_ms) AS total
FROM samples
WHERE run_id = $1 AND kind = 'sample'
  AND ($3 IS NULL OR case_name = $3)
  AND ($4 IS NULL OR label = $4)
