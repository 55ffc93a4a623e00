-- Model cost per AI-assisted contact and week: every suggestion's billed cost (all capabilities) in the
-- week, divided by the AI-assisted tickets closed that week (their latest close, cx_analytics.tickets).
CREATE OR REPLACE VIEW cx_analytics.kpi_cost_per_contact AS
WITH cost AS (
  SELECT DATE_TRUNC(DATE(occurred_at), WEEK(MONDAY)) AS week,
    -- in units of 1e-8 USD (costs are priced to 8 decimals): integer sums add up the same in any order
    SUM(COALESCE(CAST(ROUND(CAST(JSON_VALUE(data, '$.cost_usd') AS FLOAT64) * 100000000) AS INT64), 0)) AS cost_e8,
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
SELECT c.week, COALESCE(t.contacts, 0) AS contacts, c.suggestions, c.cost_e8 / 100000000.0 AS cost_usd,
  SAFE_DIVIDE(c.cost_e8, t.contacts) / 100000000.0 AS cost_per_contact
FROM cost AS c
LEFT JOIN contacts AS t ON t.week = c.week
