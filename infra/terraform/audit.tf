# --- Audit -------------------------------------------------------------------------------------
# Firestore reads and writes (customer snapshots, stored suggestions) are recorded as Data
# Access audit logs. Admin Activity logs are always on.
resource "google_project_iam_audit_config" "firestore" {
  project = var.project_id
  service = "datastore.googleapis.com"
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

# Who saw which customer's data through which capability, written by the application (one
# row per disclosure decision). Defined here only: infra/bigquery/00_*.sql are the tables the
# local warehouse and its tests create, and this one is not part of the KPI model.
resource "google_bigquery_table" "audit_events" {
  # checkov:skip=CKV_GCP_80: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  dataset_id          = google_bigquery_dataset.analytics.dataset_id
  table_id            = "audit_events"
  description         = "CX Copilot data-access audit trail: who saw which fields of which (pseudonymous) customer, and the decision"
  deletion_protection = true
  clustering          = ["tenant", "capability", "agent_id"]
  time_partitioning {
    type  = "DAY"
    field = "ts"
  }
  schema = jsonencode([
    { name = "ts", type = "TIMESTAMP", mode = "REQUIRED" },
    { name = "request_id", type = "STRING", mode = "NULLABLE" },
    { name = "agent_id", type = "STRING", mode = "NULLABLE" },
    { name = "role", type = "STRING", mode = "NULLABLE" },
    { name = "tenant", type = "STRING", mode = "NULLABLE" },
    { name = "customer_key", type = "STRING", mode = "NULLABLE" },
    { name = "capability", type = "STRING", mode = "NULLABLE" },
    { name = "fields_disclosed", type = "STRING", mode = "REPEATED" },
    { name = "decision", type = "STRING", mode = "NULLABLE" },
  ])
}
