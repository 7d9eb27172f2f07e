-- Inputs of JMeter's APDEX table for run $1: per label, the number of samples and the exact
-- distribution of successful samples' elapsed times (thresholds, incl. per-label overrides, are
-- applied to it in crates/query/src/reports/jmeter_tables.rs). Empty transactions are skipped;
-- transactions are included in their own rows. Total: top-level samples (loadlake's rule, see
-- docs/metrics.md).
WITH s AS (
    SELECT label, kind, success, elapsed_ms FROM samples
    WHERE run_id = $1
      AND NOT is_empty_transaction(response_message)
)
SELECT label, 0 AS total_row, count(*) AS samples,
       ms_histogram(CASE WHEN success THEN elapsed_ms END) AS ok
FROM s GROUP BY label
UNION ALL
SELECT 'Total', 1, count(*), ms_histogram(CASE WHEN success THEN elapsed_ms END)
FROM s WHERE kind = 'sample'
ORDER BY total_row, label
