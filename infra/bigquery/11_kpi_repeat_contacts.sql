CREATE OR REPLACE VIEW cx_analytics.kpi_repeat_contacts AS
SELECT journey, ai_assisted, week, COUNT(*) AS tickets,
  AVG(CASE WHEN repeat_7d THEN 1 ELSE 0 END) AS repeat_rate_7d,
  AVG(CASE WHEN repeat_30d THEN 1 ELSE 0 END) AS repeat_rate_30d
FROM cx_analytics.tickets
GROUP BY journey, ai_assisted, week
