-- Every event once: de-duplicated on event_id (redeliveries, retried publishes, outbox drains).
CREATE OR REPLACE VIEW cx_analytics.events AS
SELECT
  JSON_VALUE(data, '$.event_id') AS event_id,
  JSON_VALUE(data, '$.event_type') AS event_type,
  CAST(JSON_VALUE(data, '$.occurred_at') AS TIMESTAMP) AS occurred_at,
  publish_time,
  data
FROM cx_analytics.events_raw
WHERE JSON_VALUE(data, '$.event_id') IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY publish_time, message_id) = 1
