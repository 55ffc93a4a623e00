-- The cost of a broken promise: contacts the customer opens within 7 days after a promise became
-- overdue (commitment.overdue), beside the same rate after promises that never went overdue (window
-- from their due instant). Per queue, journey and AI-assisted vs control. A contact is a ticket of
-- the same customer (customer_key) other than the promise's own, opened in the window. By week of
-- the window's start (overdue or due instant): counts add up over weeks.
CREATE OR REPLACE VIEW cx_analytics.kpi_broken_promises AS
WITH changes AS (
  SELECT
    JSON_VALUE(data, '$.commitment_id') AS commitment_id,
    JSON_VALUE(data, '$.customer_key') AS customer_key,
    JSON_VALUE(data, '$.ticket_id') AS ticket_id,
    JSON_VALUE(data, '$.queue_code') AS queue_code,
    JSON_VALUE(data, '$.status') AS status,
    CAST(JSON_VALUE(data, '$.version') AS INT64) AS version,
    CAST(JSON_VALUE(data, '$.original_due_at') AS TIMESTAMP) AS original_due_at,
    event_id
  FROM cx_analytics.events
  WHERE event_type LIKE 'commitment.%'
),
latest AS (
  SELECT * FROM changes
  QUALIFY ROW_NUMBER() OVER (PARTITION BY commitment_id ORDER BY version DESC, event_id) = 1
),
overdue AS (
  SELECT JSON_VALUE(data, '$.commitment_id') AS commitment_id,
    MIN(CAST(JSON_VALUE(data, '$.due_at') AS TIMESTAMP)) AS overdue_at
  FROM cx_analytics.events
  WHERE event_type = 'commitment.overdue'
  GROUP BY 1
),
contacts AS (
  SELECT DISTINCT JSON_VALUE(data, '$.customer_key') AS customer_key, JSON_VALUE(data, '$.ticket_id') AS ticket_id,
    CAST(JSON_VALUE(data, '$.opened_at') AS TIMESTAMP) AS opened_at
  FROM cx_analytics.events
  WHERE event_type = 'ticket.closed' AND JSON_VALUE(data, '$.customer_key') IS NOT NULL
),
windows AS (
  SELECT l.commitment_id, l.customer_key, l.ticket_id, l.queue_code, o.overdue_at IS NOT NULL AS broken,
    COALESCE(o.overdue_at, l.original_due_at) AS since
  FROM latest AS l
  LEFT JOIN overdue AS o ON o.commitment_id = l.commitment_id
  WHERE l.status NOT IN ('superseded', 'cancelled') AND l.original_due_at IS NOT NULL
    AND COALESCE(o.overdue_at, l.original_due_at) <= CURRENT_TIMESTAMP()
),
per_promise AS (
  SELECT w.commitment_id, w.ticket_id, w.queue_code, w.broken, w.since, COUNT(DISTINCT k.ticket_id) AS contacts_7d
  FROM windows AS w
  LEFT JOIN contacts AS k
    ON k.customer_key = w.customer_key AND k.ticket_id <> w.ticket_id
    AND k.opened_at > w.since AND k.opened_at <= TIMESTAMP_ADD(w.since, INTERVAL 7 DAY)
  GROUP BY 1, 2, 3, 4, 5
)
SELECT p.queue_code, COALESCE(t.journey, 'unknown') AS journey, COALESCE(t.ai_assisted, TRUE) AS ai_assisted,
  p.broken, DATE_TRUNC(DATE(p.since), WEEK(MONDAY)) AS week,
  COUNT(*) AS promises,
  SUM(p.contacts_7d) AS repeat_contacts_7d,
  AVG(CASE WHEN p.contacts_7d > 0 THEN 1 ELSE 0 END) AS repeat_rate_7d
FROM per_promise AS p
LEFT JOIN cx_analytics.tickets AS t ON t.ticket_id = p.ticket_id
GROUP BY 1, 2, 3, 4, 5
