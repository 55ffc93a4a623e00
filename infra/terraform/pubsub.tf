locals {
  pubsub_agent_email = google_project_service_identity.pubsub.email
  pubsub_agent       = "serviceAccount:${local.pubsub_agent_email}"
}

resource "google_pubsub_topic" "events" {
  # checkov:skip=CKV_GCP_83: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  name                       = local.events_topic
  message_retention_duration = "604800s"
}

resource "google_pubsub_topic" "ticket_closed" {
  # checkov:skip=CKV_GCP_83: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  name                       = local.closed_topic
  message_retention_duration = "604800s"
}

resource "google_pubsub_topic" "ticket_closed_dlq" {
  # checkov:skip=CKV_GCP_83: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  name                       = local.closed_dlq
  message_retention_duration = "2678400s"
}

resource "google_pubsub_topic" "events_bq_dlq" {
  # checkov:skip=CKV_GCP_83: Google-managed encryption at rest; customer-managed keys are an organisation policy choice (see README)
  name                       = local.bq_dlq
  message_retention_duration = "2678400s"
}

# Events land in BigQuery through a BigQuery subscription (see README: ingestion choice).
resource "google_pubsub_subscription" "events_warehouse" {
  name  = "${local.events_topic}-warehouse"
  topic = google_pubsub_topic.events.id
  bigquery_config {
    table          = "${var.project_id}.${google_bigquery_dataset.analytics.dataset_id}.${google_bigquery_table.events_raw.table_id}"
    write_metadata = true
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.events_bq_dlq.id
    max_delivery_attempts = 10
  }
  depends_on = [google_bigquery_dataset_access.pubsub_writer]
}

# ticket_closed's own subscription: push (OIDC-authenticated) to the function, retried with
# backoff, and after max_delivery_attempts forwarded to the dead-letter topic instead of being
# dropped when retention ends. functions-framework turns the raw push body into the same
# CloudEvent an Eventarc trigger would deliver (tests/integration/test_replay.py checks it).
resource "google_pubsub_subscription" "ticket_closed" {
  name                       = "${local.closed_topic}-fn"
  topic                      = google_pubsub_topic.ticket_closed.id
  ack_deadline_seconds       = local.functions.ticket_closed.timeout
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.ticket_closed_dlq.id
    max_delivery_attempts = local.closed_max_delivery_attempts
  }
  push_config {
    push_endpoint = google_cloudfunctions2_function.fn["ticket_closed"].service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.fn["ticket_closed"].service_config[0].uri
    }
  }
  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invoker, google_service_account_iam_member.push_token_creator,
    google_pubsub_topic_iam_member.dlq_publisher,
  ]
}

# Somewhere to read dead letters from (kept 31 days; scripts/replay_dead_letters.py reads it).
resource "google_pubsub_subscription" "dead_letters" {
  for_each                   = { ticket_closed = google_pubsub_topic.ticket_closed_dlq.id, events_bq = google_pubsub_topic.events_bq_dlq.id }
  name                       = "${each.key}-dead-letters"
  topic                      = each.value
  message_retention_duration = "2678400s"
  expiration_policy {
    ttl = ""
  }
}

# The Pub/Sub service agent forwards undeliverable messages to the dead-letter topics.
resource "google_pubsub_topic_iam_member" "dlq_publisher" {
  for_each = { ticket_closed = google_pubsub_topic.ticket_closed_dlq.name, events_bq = google_pubsub_topic.events_bq_dlq.name }
  topic    = each.value
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dlq_subscriber" {
  subscription = google_pubsub_subscription.events_warehouse.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# Dead-lettering acknowledges the forwarded message on the source subscription.
resource "google_pubsub_subscription_iam_member" "ticket_closed_dlq_subscriber" {
  subscription = google_pubsub_subscription.ticket_closed.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
