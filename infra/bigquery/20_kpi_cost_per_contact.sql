-- Model cost per AI-assisted contact and week: every suggestion's cost (all capabilities) in the
-- week, divided by the AI-assisted tickets closed that week (their latest close, cx_analytics.tickets).
CREATE OR REPLACE VIEW cx_analytics.kpi_cost_per_contact AS
WITH cost AS (
  SELECT DATE_TRUNC(DATE(occurred_at), WEEK(MONDAY)) AS week,
    COALESCE(SUM(CASE WHEN JSON_VALUE(data, '$.engine') = 'vertex'
                      THEN CAST(JSON_VALUE(data, '$.cost_usd') AS FLOAT64) END), 0) AS cost_usd,
    COUNT(*) AS suggestions
  FROM cx_analytics.events
  WHERE event_type = 'suggestion.generated'
  GROUP BY week
),
contacts AS (
  SELECT week, COUNT(*) AS contacts
  FROM cx_analytics.tickets
  WHERE ai_assisted
  GROUP BY week
)
SELECT c.week, COALESCE(t.contacts, 0) AS contacts, c.suggestions, c.cost_usd,
  SAFE_DIVIDE(c.cost_usd, t.contacts) AS cost_per_contact
FROM cost AS c
LEFT JOIN contacts AS t ON t.week = c.week
