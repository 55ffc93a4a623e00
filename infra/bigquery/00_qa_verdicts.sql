-- Team leads' verdicts on the weekly QA sample (scripts/weekly_qa.py verdicts): one row per
-- reviewed contact, replaced when it is reviewed again. Joined by kpi_qa_verdicts.
CREATE TABLE IF NOT EXISTS cx_analytics.qa_verdicts (
  suggestion_id STRING NOT NULL,
  ticket_id STRING,
  week DATE,
  journey STRING,
  reviewer STRING,
  owner_right BOOL,
  date_realistic BOOL,
  bounced BOOL,
  note STRING,
  recorded_at TIMESTAMP
)
OPTIONS (description = 'Weekly QA verdicts from team leads')
