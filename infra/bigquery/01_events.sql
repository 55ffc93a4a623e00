-- Every event once: de-duplicated on event_id (redeliveries, retried publishes, outbox drains).
-- Reads only the partitions events_raw retains (400 days, config/data/retention.yaml): the predicate on
-- the partition column lets BigQuery prune, and locally it applies the same retention. An event
-- without occurred_at cannot be placed in time (every KPI counts by date) and is left out.
CREATE OR REPLACE VIEW cx_analytics.events AS
SELECT
  JSON_VALUE(data, '$.event_id') AS event_id,
  JSON_VALUE(data, '$.event_type') AS event_type,
  CAST(JSON_VALUE(data, '$.occurred_at') AS TIMESTAMP) AS occurred_at,
  publish_time,
  data
FROM cx_analytics.events_raw
WHERE DATE(publish_time) >= DATE_SUB(CURRENT_DATE(), INTERVAL 400 DAY)
  AND JSON_VALUE(data, '$.event_id') IS NOT NULL
  AND JSON_VALUE(data, '$.occurred_at') IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY publish_time, message_id) = 1
