-- JMeter's Errors and Top 5 errors by sampler tables for run $1: failed non-transaction samples
-- counted per (label, error key). The key is JMeter's: "<code>/<message>", or the assertion's
-- failure message (else "Assertion failed") when the code is a success code (200-399) or empty
-- with a failure message. label_samples / all_samples count non-transaction samples.
WITH s AS (
    SELECT label, success, response_code, response_message, failure_message
    FROM samples WHERE run_id = $1 AND kind <> 'transaction'
),
per_label AS (
    SELECT label, count(*) AS label_samples FROM s GROUP BY label
),
errs AS (
    SELECT label,
           CASE
               WHEN regexp_like(coalesce(response_code, ''), '^[23][0-9][0-9]$')
                    OR (coalesce(response_code, '') = '' AND trim(coalesce(failure_message, '')) <> '')
                   THEN coalesce(nullif(failure_message, ''), 'Assertion failed')
               ELSE concat(coalesce(response_code, ''),
                           CASE WHEN coalesce(response_message, '') <> '' THEN concat('/', response_message) ELSE '' END)
           END AS error,
           count(*) AS errors
    FROM s WHERE NOT success GROUP BY 1, 2
)
SELECT errs.label, error, errors, label_samples, (SELECT count(*) FROM s) AS all_samples
FROM errs JOIN per_label ON errs.label = per_label.label
ORDER BY errors DESC, errs.label, error
