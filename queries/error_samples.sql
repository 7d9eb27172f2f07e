-- The samples of run $1 in error class $2 (top-level samples, as error_classes.sql counts them),
-- in source order after row $3, at most $4: one page of the console's drill-down
-- (GET /api/v1/runs/{id}/samples?error_class=…; crates/query/src/reports/samples.rs).
SELECT "row", CAST(ts AS BIGINT) AS ts_ms, label, case_name, thread, elapsed_ms,
       response_code, response_message, failure_message, error_class
FROM samples
WHERE run_id = $1 AND kind = 'sample' AND error_class = $2 AND "row" > $3
ORDER BY "row"
LIMIT $4
