CREATE OR REPLACE VIEW cx_analytics.kpi_handle_time AS
SELECT journey, ai_assisted, week, COUNT(*) AS tickets,
  AVG(handle_time_s) AS avg_handle_time_s,
  AVG(after_contact_work_s) AS avg_after_contact_work_s,
  AVG(csat) AS avg_csat
FROM cx_analytics.tickets
GROUP BY journey, ai_assisted, week
