-- Cases of run $1 with their requests and transactions (CodeArts case_aw_info_list); empty
-- transactions are left out, as in every report (details, JMeter tables, scopes).
SELECT coalesce(case_name, '') AS case_name, label, kind, count(*) AS samples
FROM samples
WHERE run_id = $1 AND kind <> 'subsample'
  AND NOT is_empty_transaction(response_message)
GROUP BY coalesce(case_name, ''), label, kind
ORDER BY case_name, label, kind
