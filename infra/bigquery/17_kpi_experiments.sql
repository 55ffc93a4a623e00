-- Prompt experiments (config/engine/experiments.yaml): per capability, experiment, arm and prompt version,
-- the suggestions shown and the feedback on them. The arm is recorded on suggestion.generated and
-- joined to feedback.recorded through the suggestion id. Counts, not rates, so that weeks and
-- segments add up and scripts/experiment_report.py can test the difference between the arms.
CREATE OR REPLACE VIEW cx_analytics.kpi_experiments AS
WITH shown AS (
  SELECT
    JSON_VALUE(data, '$.suggestion_id') AS suggestion_id,
    JSON_VALUE(data, '$.capability') AS capability,
    JSON_VALUE(data, '$.experiment') AS experiment,
    JSON_VALUE(data, '$.arm') AS arm,
    JSON_VALUE(data, '$.prompt_version') AS prompt_version,
    DATE_TRUNC(DATE(occurred_at), WEEK(MONDAY)) AS week
  FROM cx_analytics.events
  WHERE event_type = 'suggestion.generated' AND JSON_VALUE(data, '$.experiment') IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY suggestion_id ORDER BY occurred_at) = 1
),
feedback AS (
  SELECT
    JSON_VALUE(data, '$.suggestion_id') AS suggestion_id,
    JSON_VALUE(data, '$.rating') AS rating,
    JSON_VALUE(data, '$.nba_outcome') AS nba_outcome
  FROM cx_analytics.events
  WHERE event_type = 'feedback.recorded'
)
SELECT s.capability, s.experiment, s.arm, s.prompt_version, s.week,
  COUNT(DISTINCT s.suggestion_id) AS suggestions,
  COUNTIF(f.rating IS NOT NULL) AS rated,
  COUNTIF(f.rating IN ('used_unchanged', 'lightly_edited')) AS used,
  COUNTIF(f.rating = 'heavily_edited') AS heavily_edited,
  COUNTIF(f.rating = 'not_helpful') AS not_helpful,
  COUNTIF(f.nba_outcome IN ('accepted', 'rejected')) AS offered,
  COUNTIF(f.nba_outcome = 'accepted') AS accepted,
  SAFE_DIVIDE(COUNTIF(f.nba_outcome = 'accepted'), COUNTIF(f.nba_outcome IN ('accepted', 'rejected'))) AS acceptance_rate
FROM shown AS s
LEFT JOIN feedback AS f ON f.suggestion_id = s.suggestion_id
GROUP BY s.capability, s.experiment, s.arm, s.prompt_version, s.week
