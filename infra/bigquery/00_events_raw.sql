-- Landing table written by the Pub/Sub BigQuery subscription on cx-events
-- (write_metadata = true): one row per delivered message, duplicates included.
-- Partitioned by day, clustered by message id; expired after 400 days.
CREATE TABLE IF NOT EXISTS cx_analytics.events_raw (
  subscription_name STRING,
  message_id STRING,
  publish_time TIMESTAMP NOT NULL,
  data JSON,
  attributes JSON
)
PARTITION BY DATE(publish_time)
CLUSTER BY message_id
OPTIONS (partition_expiration_days = 400, description = 'CX Copilot events as delivered by Pub/Sub')
