-- Gemini usage and cost per capability and week, from suggestion.generated: tokens in (cached
-- included), visible output, thinking (billed as output) and the cost priced on the event from
-- config/pricing.yaml. Offline and degraded answers cost nothing; a Gemini answer without a price
-- (usage missing) is counted in unpriced, never as zero.
CREATE OR REPLACE VIEW cx_analytics.kpi_model_cost AS
WITH s AS (
  SELECT
    JSON_VALUE(data, '$.capability') AS capability,
    JSON_VALUE(data, '$.engine') AS engine,
    DATE_TRUNC(DATE(occurred_at), WEEK(MONDAY)) AS week,
    COALESCE(CAST(JSON_VALUE(data, '$.tokens_in') AS INT64), 0) AS tokens_in,
    COALESCE(CAST(JSON_VALUE(data, '$.tokens_out') AS INT64), 0) AS tokens_out,
    COALESCE(CAST(JSON_VALUE(data, '$.tokens_thinking') AS INT64), 0) AS tokens_thinking,
    COALESCE(CAST(JSON_VALUE(data, '$.tokens_cached') AS INT64), 0) AS tokens_cached,
    CAST(JSON_VALUE(data, '$.cost_usd') AS FLOAT64) AS cost_usd
  FROM cx_analytics.events
  WHERE event_type = 'suggestion.generated'
)
SELECT capability, week,
  COUNT(*) AS suggestions,
  COUNTIF(engine = 'vertex') AS gemini_answers,
  SUM(CASE WHEN engine = 'vertex' THEN tokens_in ELSE 0 END) AS tokens_in,
  SUM(CASE WHEN engine = 'vertex' THEN tokens_cached ELSE 0 END) AS tokens_cached,
  SUM(CASE WHEN engine = 'vertex' THEN tokens_out ELSE 0 END) AS tokens_out,
  SUM(CASE WHEN engine = 'vertex' THEN tokens_thinking ELSE 0 END) AS tokens_thinking,
  COUNTIF(engine = 'vertex' AND cost_usd IS NULL) AS unpriced,
  COALESCE(SUM(CASE WHEN engine = 'vertex' THEN cost_usd END), 0) AS cost_usd,
  SAFE_DIVIDE(COALESCE(SUM(CASE WHEN engine = 'vertex' THEN cost_usd END), 0), COUNT(*)) AS cost_per_suggestion
FROM s
GROUP BY capability, week
