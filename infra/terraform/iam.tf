# One service account per function, each with only what it uses.
resource "google_service_account" "fn" {
  for_each     = local.functions
  account_id   = "cx-${replace(each.key, "_", "-")}"
  display_name = "CX Copilot ${each.key}"
}

resource "google_project_iam_member" "firestore_user" {
  for_each = local.functions
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

resource "google_project_iam_member" "vertex_user" {
  for_each = { for k, v in local.functions : k => v if v.model }
  project  = var.project_id
  role     = "roles/aiplatform.user"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

resource "google_pubsub_topic_iam_member" "events_publisher" {
  for_each = local.functions
  topic    = google_pubsub_topic.events.name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

resource "google_pubsub_topic_iam_member" "ticket_dlq_publisher" {
  topic  = google_pubsub_topic.ticket_closed_dlq.name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.fn["ticket_closed"].email}"
}

resource "google_secret_manager_secret_iam_member" "pseudonym_key" {
  for_each  = local.functions
  secret_id = google_secret_manager_secret.pseudonym_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# The ticket-close push subscription authenticates as its own account (OIDC token) and
# may invoke only ticket_closed.
resource "google_service_account" "push" {
  account_id   = "cx-ticket-closed-push"
  display_name = "CX Copilot ticket-close push subscription"
}

resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  location = var.region
  name     = google_cloudfunctions2_function.fn["ticket_closed"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}

# Pub/Sub's service agent mints the OIDC tokens for the push account.
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

# No unauthenticated access: only the listed callers (Google ID tokens) may invoke.
resource "google_cloud_run_v2_service_iam_member" "http_invoker" {
  for_each = {
    for pair in setproduct([for k, v in local.functions : k if v.http], var.invoker_members) :
    "${pair[0]}|${pair[1]}" => { function = pair[0], member = pair[1] }
  }
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.value.function].name
  role     = "roles/run.invoker"
  member   = each.value.member
}

# The push account may also invoke the overdue sweep; the sweep may queue its own continuation.
resource "google_cloud_run_v2_service_iam_member" "sweep_push_invoker" {
  location = var.region
  name     = google_cloudfunctions2_function.fn["commitment_sweep"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}

resource "google_pubsub_topic_iam_member" "sweep_continuation_publisher" {
  topic  = google_pubsub_topic.commitment_sweep.name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.fn["commitment_sweep"].email}"
}
