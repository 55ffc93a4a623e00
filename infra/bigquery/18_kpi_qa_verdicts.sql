-- Weekly QA verdicts per journey and week, next to what the data says about the same tickets
-- (a repeat contact within 7 days, handoffs): did the team lead's "bounced" match the data?
CREATE OR REPLACE VIEW cx_analytics.kpi_qa_verdicts AS
SELECT v.journey, v.week, COUNT(*) AS reviewed,
  AVG(CAST(v.owner_right AS INT64)) AS owner_right_rate,
  AVG(CAST(v.date_realistic AS INT64)) AS date_realistic_rate,
  AVG(CAST(v.bounced AS INT64)) AS bounced_rate,
  AVG(CASE WHEN t.repeat_7d THEN 1 WHEN t.ticket_id IS NOT NULL THEN 0 END) AS repeat_7d_rate,
  AVG(t.handoffs) AS handoffs_per_case
FROM cx_analytics.qa_verdicts AS v
LEFT JOIN cx_analytics.tickets AS t ON t.ticket_id = v.ticket_id
GROUP BY v.journey, v.week
