CREATE OR REPLACE VIEW cx_analytics.kpi_first_contact_resolution AS
SELECT journey, ai_assisted, week, COUNT(*) AS tickets,
  AVG(CASE WHEN repeat_7d THEN 0 ELSE 1 END) AS first_contact_resolution
FROM cx_analytics.tickets
GROUP BY journey, ai_assisted, week
