CREATE OR REPLACE VIEW cx_analytics.kpi_handoffs AS
SELECT journey, ai_assisted, week, COUNT(*) AS tickets, AVG(handoffs) AS handoffs_per_case
FROM cx_analytics.tickets
GROUP BY journey, ai_assisted, week
