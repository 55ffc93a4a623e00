-- Promises kept on time, per queue, owner type, journey and AI-assisted vs control, by week of the
-- original due date. Every confirmed next step is a commitment (commitment.* events, latest version
-- wins). A promise counts once it is due (or done); superseded and cancelled ones do not count.
-- Kept on time = done no later than the end of its ORIGINAL due day (customer's time zone, owner's
-- business calendar: original_due_at); an extension does not make a late promise on time.
-- avg_days_late is over the promises kept late.
CREATE OR REPLACE VIEW cx_analytics.kpi_promises_kept AS
WITH changes AS (
  SELECT
    JSON_VALUE(data, '$.commitment_id') AS commitment_id,
    JSON_VALUE(data, '$.ticket_id') AS ticket_id,
    JSON_VALUE(data, '$.owner') AS owner,
    JSON_VALUE(data, '$.queue_code') AS queue_code,
    JSON_VALUE(data, '$.status') AS status,
    CAST(JSON_VALUE(data, '$.version') AS INT64) AS version,
    CAST(JSON_VALUE(data, '$.original_due_at') AS TIMESTAMP) AS original_due_at,
    CAST(JSON_VALUE(data, '$.changed_at') AS TIMESTAMP) AS changed_at,
    event_id
  FROM cx_analytics.events
  WHERE event_type LIKE 'commitment.%'
),
latest AS (
  SELECT * FROM changes
  QUALIFY ROW_NUMBER() OVER (PARTITION BY commitment_id ORDER BY version DESC, event_id) = 1
),
counted AS (
  SELECT l.*,
    l.status = 'done' AND l.changed_at <= l.original_due_at AS on_time,
    l.status = 'done' AND l.changed_at > l.original_due_at AS late
  FROM latest AS l
  WHERE l.status NOT IN ('superseded', 'cancelled') AND l.original_due_at IS NOT NULL
    AND (l.status = 'done' OR l.original_due_at <= CURRENT_TIMESTAMP())
)
SELECT c.queue_code, c.owner, COALESCE(t.journey, 'unknown') AS journey, COALESCE(t.ai_assisted, TRUE) AS ai_assisted,
  DATE_TRUNC(DATE(c.original_due_at), WEEK(MONDAY)) AS week,
  COUNT(*) AS promises,
  SUM(CASE WHEN c.on_time THEN 1 ELSE 0 END) AS kept_on_time,
  AVG(CASE WHEN c.on_time THEN 1 ELSE 0 END) AS kept_on_time_rate,
  SUM(CASE WHEN c.late THEN 1 ELSE 0 END) AS kept_late,
  SUM(CASE WHEN c.status IN ('open', 'overdue') THEN 1 ELSE 0 END) AS not_kept_yet,
  AVG(CASE WHEN c.late THEN TIMESTAMP_DIFF(c.changed_at, c.original_due_at, MICROSECOND) / 86400000000 END) AS avg_days_late
FROM counted AS c
LEFT JOIN cx_analytics.tickets AS t ON t.ticket_id = c.ticket_id
GROUP BY 1, 2, 3, 4, 5
