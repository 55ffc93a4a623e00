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
    expiration_ms = local.retention.bigquery.events_raw * 86400000 # config/data/retention.yaml (days)
  }
  schema = jsonencode([
    { name = "subscription_name", type = "STRING", mode = "NULLABLE" },
    { name = "message_id", type = "STRING", mode = "NULLABLE" },
    { name = "publish_time", type = "TIMESTAMP", mode = "REQUIRED" },
    { name = "data", type = "JSON", mode = "NULLABLE" },
    { name = "attributes", type = "JSON", mode = "NULLABLE" },
  ])
}

# Same columns as ../bigquery/00_qa_verdicts.sql (a test compares them): team leads' QA verdicts.
resource "google_bigquery_table" "qa_verdicts" {
  # checkov:skip=CKV_GCP_80: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  dataset_id          = google_bigquery_dataset.analytics.dataset_id
  table_id            = "qa_verdicts"
  deletion_protection = true
  schema = jsonencode([
    { name = "suggestion_id", type = "STRING", mode = "REQUIRED" },
    { name = "ticket_id", type = "STRING", mode = "NULLABLE" },
    { name = "week", type = "DATE", mode = "NULLABLE" },
    { name = "journey", type = "STRING", mode = "NULLABLE" },
    { name = "reviewer", type = "STRING", mode = "NULLABLE" },
    { name = "owner_right", type = "BOOL", mode = "NULLABLE" },
    { name = "date_realistic", type = "BOOL", mode = "NULLABLE" },
    { name = "bounced", type = "BOOL", mode = "NULLABLE" },
    { name = "note", type = "STRING", mode = "NULLABLE" },
    { name = "recorded_at", type = "TIMESTAMP", mode = "NULLABLE" },
  ])
}

locals {
  # The view SQL files the tests run, with their CREATE header removed and the dataset qualified.
  view_sql = {
    for f in fileset(local.sql_dir, "[0-9][0-9]_*.sql") :
    trimsuffix(substr(f, 3, -1), ".sql") => replace(
      trimspace(replace(file("${local.sql_dir}/${f}"), "/(?s)^.*?CREATE OR REPLACE VIEW \\S+ AS/", "")),
      "cx_analytics.", "`${var.project_id}.cx_analytics`."
    ) if !startswith(f, "00_")
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
  depends_on = [google_bigquery_table.tickets, google_bigquery_table.qa_verdicts]
}

# --- Who may use cx_analytics: one mechanism per dataset -------------------------------------
# The provider's docs (google_bigquery_dataset_iam): the _iam_member/_binding/_policy family
# "cannot be used with google_bigquery_dataset_access ... or they will fight over what the
# policy should be", and "will remove any authorized view permissions from the dataset. To
# assign and preserve authorized view permissions use google_bigquery_dataset_access". The
# analysts' KPI views in cx_kpi are authorized on cx_analytics (an authorized dataset), so
# every grant on cx_analytics is a google_bigquery_dataset_access (legacy role names: the API
# returns WRITER for roles/bigquery.dataEditor, which would otherwise diff on every plan).
# cx_kpi carries no authorized views, so its grants (analysts) use _iam_member only.

# The Pub/Sub service agent writes the BigQuery subscription's rows.
resource "google_bigquery_dataset_access" "pubsub_writer" {
  dataset_id    = google_bigquery_dataset.analytics.dataset_id
  role          = "WRITER"
  user_by_email = local.pubsub_agent_email
}

# --- Materialization: a daily scheduled query keeps every view in a mat_<view> table, incrementally --
# The script is ../bigquery/materialize.sql.tftpl, generated from the view files by
# scripts/warehouse_db.py (`python -m scripts.warehouse template`; a unit test keeps it current, and
# the local DuckDB warehouse runs the same statements). Each run reads only the events_raw partitions
# published since the last run plus late_arrival_days before them, merges their new events into
# mat_events (partitioned by event date, clustered by event type) and rewrites only the date
# partitions of mat_tickets and the KPI tables those events can change; mat_state records the run.
# Partitions older than analytics_horizon_days are dropped. A full rebuild: delete the rows of
# mat_state, then run the query (it also rebuilds by itself when a view's definition changed).
variable "late_arrival_days" {
  type        = number
  default     = 3
  description = "events_raw partitions re-read by each materialization before the newest one it has read (late deliveries)."
  validation {
    condition     = var.late_arrival_days >= 0 && var.late_arrival_days <= 30
    error_message = "late_arrival_days must be between 0 and 30."
  }
}

variable "analytics_horizon_days" {
  type        = number
  default     = 400
  description = "Days of history the materialized tables keep; at most events_raw's retention (400 days)."
  validation {
    condition     = var.analytics_horizon_days >= 7 && var.analytics_horizon_days <= 400
    error_message = "analytics_horizon_days must be between 7 and 400 (events_raw keeps 400 days)."
  }
}

locals {
  kpi_dataset = "cx_kpi"
  materialize_script = templatefile("${local.sql_dir}/materialize.sql.tftpl", {
    late_arrival_days = var.late_arrival_days
    horizon_days      = var.analytics_horizon_days
    project_id        = var.project_id
  })
}

resource "google_service_account" "materialize" {
  account_id   = "cx-kpi-materialize"
  display_name = "CX Copilot daily KPI materialization (scheduled query)"
  depends_on   = [google_project_service.apis]
}

resource "google_project_iam_member" "materialize_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.materialize.email}"
}

resource "google_bigquery_dataset_access" "materialize_writer" {
  dataset_id    = google_bigquery_dataset.analytics.dataset_id
  role          = "WRITER"
  user_by_email = google_service_account.materialize.email
}

# The Data Transfer service agent runs the scheduled query as the account above.
resource "google_service_account_iam_member" "materialize_token_creator" {
  service_account_id = google_service_account.materialize.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com"
}

resource "google_bigquery_data_transfer_config" "materialize" {
  display_name         = "cx-kpi-materialize"
  location             = google_bigquery_dataset.analytics.location
  data_source_id       = "scheduled_query"
  schedule             = "every day 03:00"
  service_account_name = google_service_account.materialize.email
  params = {
    query = local.materialize_script
  }
  depends_on = [
    google_project_iam_member.materialize_jobs, google_bigquery_dataset_access.materialize_writer,
    google_service_account_iam_member.materialize_token_creator, google_bigquery_table.kpi,
  ]
}

# Run the script once at apply (and again whenever it changes), so the mat_ tables the analysts'
# views read exist before the first scheduled run; after a view changed, that run rebuilds them.
resource "google_bigquery_job" "materialize_now" {
  job_id   = "cx_materialize_${substr(sha256(local.materialize_script), 0, 16)}"
  location = google_bigquery_dataset.analytics.location
  query {
    query              = local.materialize_script
    use_legacy_sql     = false
    create_disposition = ""
    write_disposition  = ""
  }
  depends_on = [google_bigquery_table.kpi]
}

# --- What analysts see: an authorized dataset with one view per KPI table --------------------
variable "analyst_members" {
  type        = list(string)
  default     = []
  description = "Who may query the KPI views, e.g. [\"group:cx-analysts@acme.com\"] (no access to events)."
}

resource "google_bigquery_dataset" "kpi" {
  # checkov:skip=CKV_GCP_81: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  dataset_id  = local.kpi_dataset
  location    = google_bigquery_dataset.analytics.location
  description = "CX Copilot KPIs for analysts and dashboards (daily materialized; no per-customer data)"
  depends_on  = [google_project_service.apis]
}

resource "google_bigquery_table" "kpi_shared" {
  # checkov:skip=CKV_GCP_80: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  # checkov:skip=CKV_GCP_121: a view holds no data and is recreated on every apply; the data is in cx_analytics
  for_each            = local.kpi_views
  dataset_id          = google_bigquery_dataset.kpi.dataset_id
  table_id            = each.key
  deletion_protection = false
  view {
    query          = "SELECT * FROM `${var.project_id}.cx_analytics.mat_${each.key}`"
    use_legacy_sql = false
  }
  depends_on = [google_bigquery_job.materialize_now]
}

# The cx_kpi views may read cx_analytics on the analysts' behalf; the analysts may not
# (see "one mechanism per dataset" above).
resource "google_bigquery_dataset_access" "kpi_authorized" {
  dataset_id = google_bigquery_dataset.analytics.dataset_id
  dataset {
    dataset {
      project_id = var.project_id
      dataset_id = google_bigquery_dataset.kpi.dataset_id
    }
    target_types = ["VIEWS"]
  }
}

resource "google_bigquery_dataset_iam_member" "analysts" {
  for_each   = toset(var.analyst_members)
  dataset_id = google_bigquery_dataset.kpi.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value
}

resource "google_project_iam_member" "analyst_jobs" {
  for_each = toset(var.analyst_members)
  project  = var.project_id
  role     = "roles/bigquery.jobUser"
  member   = each.value
}
