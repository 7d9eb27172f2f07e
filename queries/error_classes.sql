-- Error classes of the top-level samples of run $1 (docs/error-classes.md).
SELECT error_class, count(*) AS samples
FROM samples
WHERE run_id = $1 AND kind = 'sample'
GROUP BY error_class
ORDER BY samples DESC, error_class
