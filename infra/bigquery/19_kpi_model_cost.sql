-- Gemini usage and cost per capability and week, from suggestion.generated: tokens Google billed
-- (input with cached, visible output, thinking, which is billed as output) and the cost priced on
-- the event from config/engine/pricing.yaml. Billed = tokens read from usageMetadata (tokens_estimated
-- false), which includes unusable answers that fell back to the offline engine (truncated, blocked).
-- Offline answers cost nothing; a Gemini answer without usage is counted in unpriced, never as zero.
CREATE OR REPLACE VIEW cx_analytics.kpi_model_cost AS
WITH s AS (
  SELECT
    JSON_VALUE(data, '$.capability') AS capability,
    JSON_VALUE(data, '$.engine') AS engine,
    NOT COALESCE(CAST(JSON_VALUE(data, '$.tokens_estimated') AS BOOL), TRUE) AS billed,
    DATE_TRUNC(DATE(occurred_at), WEEK(MONDAY)) AS week,
    COALESCE(CAST(JSON_VALUE(data, '$.tokens_in') AS INT64), 0) AS tokens_in,
    COALESCE(CAST(JSON_VALUE(data, '$.tokens_out') AS INT64), 0) AS tokens_out,
    COALESCE(CAST(JSON_VALUE(data, '$.tokens_thinking') AS INT64), 0) AS tokens_thinking,
    COALESCE(CAST(JSON_VALUE(data, '$.tokens_cached') AS INT64), 0) AS tokens_cached,
    CAST(JSON_VALUE(data, '$.cost_usd') AS FLOAT64) AS cost_usd,
    -- in units of 1e-8 USD (costs are priced to 8 decimals): integer sums add up the same in any order
    COALESCE(CAST(ROUND(CAST(JSON_VALUE(data, '$.cost_usd') AS FLOAT64) * 100000000) AS INT64), 0) AS cost_e8
  FROM cx_analytics.events
  WHERE event_type = 'suggestion.generated'
)
SELECT capability, week,
  COUNT(*) AS suggestions,
  COUNTIF(engine = 'vertex') AS gemini_answers,
  COUNTIF(billed) AS billed_calls,
  SUM(CASE WHEN billed THEN tokens_in ELSE 0 END) AS tokens_in,
  SUM(CASE WHEN billed THEN tokens_cached ELSE 0 END) AS tokens_cached,
  SUM(CASE WHEN billed THEN tokens_out ELSE 0 END) AS tokens_out,
  SUM(CASE WHEN billed THEN tokens_thinking ELSE 0 END) AS tokens_thinking,
  COUNTIF(engine = 'vertex' AND cost_usd IS NULL) AS unpriced,
  SUM(cost_e8) / 100000000.0 AS cost_usd,
  SUM(cost_e8) / COUNT(*) / 100000000.0 AS cost_per_suggestion
FROM s
GROUP BY capability, week
