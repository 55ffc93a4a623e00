-- How often agents change the suggested resolver group, per journey and week (via the ticket).
CREATE OR REPLACE VIEW cx_analytics.kpi_resolver_overrides AS
WITH confirmations AS (
  SELECT
    JSON_VALUE(data, '$.ticket_id') AS ticket_id,
    CAST(JSON_VALUE(data, '$.diff.resolver_overridden') AS BOOL) AS overridden,
    DATE_TRUNC(DATE(occurred_at), WEEK(MONDAY)) AS week
  FROM cx_analytics.events
  WHERE event_type = 'next_steps.confirmed'
)
SELECT COALESCE(t.journey, 'unknown') AS journey, COALESCE(t.ai_assisted, TRUE) AS ai_assisted, c.week,
  COUNT(*) AS confirmations,
  AVG(CASE WHEN c.overridden THEN 1 ELSE 0 END) AS resolver_override_rate
FROM confirmations AS c
LEFT JOIN cx_analytics.tickets AS t ON t.ticket_id = c.ticket_id
GROUP BY 1, 2, 3
