# Snapshot sync: the company's systems publish change events (functions/sync_events.schema.json)
# to cx-snapshot-sync; a push subscription with retries and a dead-letter topic delivers them to
# the snapshot_sync function, as for ticket_closed (see pubsub.tf). Kept in its own file.

locals {
  # sync_topic and sync_dlq are named in locals.tf with the other topics.
  # A child record that arrives before its customer is retried: 20 attempts, 10 s..600 s backoff.
  sync_max_delivery_attempts = 20
}

resource "google_pubsub_topic" "snapshot_sync" {
  # checkov:skip=CKV_GCP_83: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  name                       = local.sync_topic
  message_retention_duration = "604800s"
}

resource "google_pubsub_topic" "snapshot_sync_dlq" {
  # checkov:skip=CKV_GCP_83: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  name                       = local.sync_dlq
  message_retention_duration = "2678400s"
}

resource "google_pubsub_subscription" "snapshot_sync" {
  name                       = "${local.sync_topic}-fn"
  topic                      = google_pubsub_topic.snapshot_sync.id
  ack_deadline_seconds       = local.functions.snapshot_sync.timeout
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.snapshot_sync_dlq.id
    max_delivery_attempts = local.sync_max_delivery_attempts
  }
  push_config {
    push_endpoint = google_cloudfunctions2_function.fn["snapshot_sync"].service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.fn["snapshot_sync"].service_config[0].uri
    }
  }
  depends_on = [
    google_cloud_run_v2_service_iam_member.sync_push_invoker, google_service_account_iam_member.push_token_creator,
    google_pubsub_topic_iam_member.sync_dlq_agent_publisher,
  ]
}

# Dead letters are kept 31 days for inspection and replay.
resource "google_pubsub_subscription" "snapshot_sync_dead_letters" {
  name                       = "snapshot_sync-dead-letters"
  topic                      = google_pubsub_topic.snapshot_sync_dlq.id
  message_retention_duration = "2678400s"
  expiration_policy {
    ttl = ""
  }
}

# The company's connectors may publish change events, to this topic only.
resource "google_pubsub_topic_iam_member" "sync_publishers" {
  for_each = toset(var.sync_publisher_members)
  topic    = google_pubsub_topic.snapshot_sync.name
  role     = "roles/pubsub.publisher"
  member   = each.value
}

resource "google_cloud_run_v2_service_iam_member" "sync_push_invoker" {
  location = var.region
  name     = google_cloudfunctions2_function.fn["snapshot_sync"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}

# The function dead-letters invalid events itself; the Pub/Sub service agent forwards
# undeliverable ones and acknowledges them on the source subscription.
resource "google_pubsub_topic_iam_member" "sync_dlq_fn_publisher" {
  topic  = google_pubsub_topic.snapshot_sync_dlq.name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.fn["snapshot_sync"].email}"
}

resource "google_pubsub_topic_iam_member" "sync_dlq_agent_publisher" {
  topic  = google_pubsub_topic.snapshot_sync_dlq.name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "sync_dlq_agent_subscriber" {
  subscription = google_pubsub_subscription.snapshot_sync.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

resource "google_monitoring_alert_policy" "snapshot_sync_dead_letters" {
  display_name          = "CX Copilot: snapshot-sync change events dead-lettered"
  combiner              = "OR"
  notification_channels = local.notification_channels
  documentation {
    content   = "Change events are parked on `${google_pubsub_subscription.snapshot_sync_dead_letters.name}`: each carries an `error` attribute with the reason (invalid event, or a customer that never arrived)."
    mime_type = "text/markdown"
  }
  conditions {
    display_name = "dead letters waiting"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.snapshot_sync_dead_letters.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
  depends_on = [google_project_service.apis]
}
