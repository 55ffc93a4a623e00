# --- Scheduled outbox drain ----------------------------------------------------------------------
# Events that could not be published wait in the Firestore outbox (CX_OUTBOX_COLLECTION). Every
# 5 minutes Cloud Scheduler publishes a tick to cx-outbox-drain, which is pushed to the
# outbox_drain function; it republishes until the outbox is empty. With
# enable_outbox_drain_function = false the job is paused and nothing subscribes; drain by hand
# with `cx dlq drain`.

resource "google_pubsub_topic" "outbox_drain" {
  # checkov:skip=CKV_GCP_83: Google-managed encryption at rest; the ticks carry no data
  name                       = local.drain_topic
  message_retention_duration = "600s"
  depends_on                 = [google_project_service.apis]
}

resource "google_cloud_scheduler_job" "outbox_drain" {
  name        = "cx-outbox-drain"
  description = "CX Copilot: republish events parked in the Firestore outbox"
  region      = var.region
  schedule    = "*/5 * * * *"
  time_zone   = "Etc/UTC"
  paused      = !var.enable_outbox_drain_function
  pubsub_target {
    topic_name = google_pubsub_topic.outbox_drain.id
    data       = base64encode(jsonencode({ task = "outbox_drain" }))
  }
  depends_on = [google_project_service.apis]
}

resource "google_service_account" "drain_push" {
  count        = var.enable_outbox_drain_function ? 1 : 0
  account_id   = "cx-outbox-drain-push"
  display_name = "CX Copilot outbox-drain push subscription"
}

resource "google_cloud_run_v2_service_iam_member" "drain_push_invoker" {
  count    = var.enable_outbox_drain_function ? 1 : 0
  location = var.region
  name     = google_cloudfunctions2_function.fn["outbox_drain"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.drain_push[0].email}"
}

resource "google_service_account_iam_member" "drain_push_token_creator" {
  count              = var.enable_outbox_drain_function ? 1 : 0
  service_account_id = google_service_account.drain_push[0].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

# A tick that fails is simply superseded by the next one: short retention, no dead letters.
resource "google_pubsub_subscription" "outbox_drain" {
  count                      = var.enable_outbox_drain_function ? 1 : 0
  name                       = "${local.drain_topic}-fn"
  topic                      = google_pubsub_topic.outbox_drain.id
  ack_deadline_seconds       = local.functions.outbox_drain.timeout
  message_retention_duration = "600s"
  expiration_policy {
    ttl = ""
  }
  retry_policy {
    minimum_backoff = "30s"
    maximum_backoff = "120s"
  }
  push_config {
    push_endpoint = google_cloudfunctions2_function.fn["outbox_drain"].service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.drain_push[0].email
      audience              = google_cloudfunctions2_function.fn["outbox_drain"].service_config[0].uri
    }
  }
  depends_on = [google_cloud_run_v2_service_iam_member.drain_push_invoker, google_service_account_iam_member.drain_push_token_creator]
}
