-- Next-best-action acceptance and conversion by offer, segment and week (of the feedback): counts
-- add up over weeks, so an overall rate is SUM(accepted) / SUM(offered).
CREATE OR REPLACE VIEW cx_analytics.kpi_nba AS
WITH outcomes AS (
  SELECT
    JSON_VALUE(data, '$.nba_offer_id') AS offer_id,
    JSON_VALUE(data, '$.segment') AS segment,
    JSON_VALUE(data, '$.nba_outcome') AS outcome,
    DATE_TRUNC(DATE(occurred_at), WEEK(MONDAY)) AS week
  FROM cx_analytics.events
  WHERE event_type = 'feedback.recorded' AND JSON_VALUE(data, '$.nba_offer_id') IS NOT NULL
)
SELECT offer_id, segment, week,
  COUNTIF(outcome IN ('accepted', 'rejected')) AS offered,
  COUNTIF(outcome = 'accepted') AS accepted,
  COUNTIF(outcome = 'converted') AS converted,
  SAFE_DIVIDE(COUNTIF(outcome = 'accepted'), COUNTIF(outcome IN ('accepted', 'rejected'))) AS acceptance_rate,
  SAFE_DIVIDE(COUNTIF(outcome = 'converted'), COUNTIF(outcome = 'accepted')) AS conversion_rate
FROM outcomes
GROUP BY offer_id, segment, week
