-- Share of suggestions used unchanged / lightly / heavily edited / not helpful, per
-- capability and prompt version (suggestions exist only on AI-assisted contacts).
CREATE OR REPLACE VIEW cx_analytics.kpi_suggestion_ratings AS
SELECT
  JSON_VALUE(data, '$.capability') AS capability,
  JSON_VALUE(data, '$.prompt_version') AS prompt_version,
  DATE_TRUNC(DATE(occurred_at), WEEK(MONDAY)) AS week,
  COUNT(*) AS rated,
  AVG(CASE WHEN JSON_VALUE(data, '$.rating') = 'used_unchanged' THEN 1 ELSE 0 END) AS share_used_unchanged,
  AVG(CASE WHEN JSON_VALUE(data, '$.rating') = 'lightly_edited' THEN 1 ELSE 0 END) AS share_lightly_edited,
  AVG(CASE WHEN JSON_VALUE(data, '$.rating') = 'heavily_edited' THEN 1 ELSE 0 END) AS share_heavily_edited,
  AVG(CASE WHEN JSON_VALUE(data, '$.rating') = 'not_helpful' THEN 1 ELSE 0 END) AS share_not_helpful
FROM cx_analytics.events
WHERE event_type = 'feedback.recorded' AND JSON_VALUE(data, '$.rating') IS NOT NULL
GROUP BY capability, prompt_version, week
