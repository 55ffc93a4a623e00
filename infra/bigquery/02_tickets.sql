-- One row per closed ticket (its latest close), with repeat contacts within 7 and 30 days.
-- First-contact resolved = no repeat contact about the same category within 7 days.
CREATE OR REPLACE VIEW cx_analytics.tickets AS
WITH closes AS (
  SELECT
    JSON_VALUE(data, '$.ticket_id') AS ticket_id,
    JSON_VALUE(data, '$.journey') AS journey,
    CAST(JSON_VALUE(data, '$.ai_assisted') AS BOOL) AS ai_assisted,
    JSON_VALUE(data, '$.channel') AS channel,
    CAST(JSON_VALUE(data, '$.closed_at') AS TIMESTAMP) AS closed_at,
    CAST(JSON_VALUE(data, '$.handoffs') AS INT64) AS handoffs,
    CAST(JSON_VALUE(data, '$.handle_time_s') AS FLOAT64) AS handle_time_s,
    CAST(JSON_VALUE(data, '$.after_contact_work_s') AS FLOAT64) AS after_contact_work_s,
    CAST(JSON_VALUE(data, '$.csat') AS INT64) AS csat
  FROM cx_analytics.events
  WHERE event_type = 'ticket.closed'
  QUALIFY ROW_NUMBER() OVER (PARTITION BY ticket_id ORDER BY closed_at DESC, event_id) = 1
),
repeats AS (
  SELECT
    JSON_VALUE(data, '$.earlier_ticket_id') AS ticket_id,
    MIN(CAST(JSON_VALUE(data, '$.days_between') AS FLOAT64)) AS min_days
  FROM cx_analytics.events
  WHERE event_type = 'ticket.repeat_contact'
  GROUP BY 1
)
SELECT
  c.ticket_id, c.journey, c.ai_assisted, c.channel, c.closed_at, c.handoffs, c.handle_time_s,
  c.after_contact_work_s, c.csat,
  DATE_TRUNC(DATE(c.closed_at), WEEK(MONDAY)) AS week,
  COALESCE(r.min_days <= 7, FALSE) AS repeat_7d,
  COALESCE(r.min_days <= 30, FALSE) AS repeat_30d
FROM closes AS c
LEFT JOIN repeats AS r ON r.ticket_id = c.ticket_id
