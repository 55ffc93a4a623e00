resource "google_bigquery_dataset" "analytics" {
  # checkov:skip=CKV_GCP_81: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  dataset_id  = local.dataset
  location    = "EU"
  description = "CX Copilot events and KPI views"
  depends_on  = [google_project_service.apis]
}

# Same columns as ../bigquery/00_events_raw.sql (a test compares them).
resource "google_bigquery_table" "events_raw" {
  # checkov:skip=CKV_GCP_80: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  dataset_id          = google_bigquery_dataset.analytics.dataset_id
  table_id            = "events_raw"
  deletion_protection = true
  clustering          = ["message_id"]
  time_partitioning {
    type          = "DAY"
    field         = "publish_time"
    expiration_ms = 34560000000 # 400 days
  }
  schema = jsonencode([
    { name = "subscription_name", type = "STRING", mode = "NULLABLE" },
    { name = "message_id", type = "STRING", mode = "NULLABLE" },
    { name = "publish_time", type = "TIMESTAMP", mode = "REQUIRED" },
    { name = "data", type = "JSON", mode = "NULLABLE" },
    { name = "attributes", type = "JSON", mode = "NULLABLE" },
  ])
}

locals {
  # The view SQL files the tests run, with their CREATE header removed and the dataset qualified.
  view_sql = {
    for f in fileset(local.sql_dir, "[0-9][0-9]_*.sql") :
    trimsuffix(substr(f, 3, -1), ".sql") => replace(
      trimspace(replace(file("${local.sql_dir}/${f}"), "/(?s)^.*?CREATE OR REPLACE VIEW \\S+ AS/", "")),
      "cx_analytics.", "`${var.project_id}.cx_analytics`."
    ) if f != "00_events_raw.sql"
  }
  kpi_views = { for name, sql in local.view_sql : name => sql if startswith(name, "kpi_") }
}

resource "google_bigquery_table" "events" {
  # checkov:skip=CKV_GCP_80: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  # checkov:skip=CKV_GCP_121: a view holds no data and is recreated from infra/bigquery on every apply; events_raw is protected
  dataset_id          = google_bigquery_dataset.analytics.dataset_id
  table_id            = "events"
  deletion_protection = false
  view {
    query          = local.view_sql["events"]
    use_legacy_sql = false
  }
  depends_on = [google_bigquery_table.events_raw]
}

resource "google_bigquery_table" "tickets" {
  # checkov:skip=CKV_GCP_80: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  # checkov:skip=CKV_GCP_121: a view holds no data and is recreated from infra/bigquery on every apply; events_raw is protected
  dataset_id          = google_bigquery_dataset.analytics.dataset_id
  table_id            = "tickets"
  deletion_protection = false
  view {
    query          = local.view_sql["tickets"]
    use_legacy_sql = false
  }
  depends_on = [google_bigquery_table.events]
}

resource "google_bigquery_table" "kpi" {
  # checkov:skip=CKV_GCP_80: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  # checkov:skip=CKV_GCP_121: a view holds no data and is recreated from infra/bigquery on every apply; events_raw is protected
  for_each            = local.kpi_views
  dataset_id          = google_bigquery_dataset.analytics.dataset_id
  table_id            = each.key
  deletion_protection = false
  view {
    query          = each.value
    use_legacy_sql = false
  }
  depends_on = [google_bigquery_table.tickets]
}

# The Pub/Sub service agent writes the BigQuery subscription's rows.
resource "google_bigquery_dataset_iam_member" "pubsub_writer" {
  dataset_id = google_bigquery_dataset.analytics.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = local.pubsub_agent
}
