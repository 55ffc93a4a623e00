# One service account per function, each with only what it uses.
resource "google_service_account" "fn" {
  for_each     = local.deployed_functions
  account_id   = "cx-${replace(each.key, "_", "-")}"
  display_name = "CX Copilot ${each.key}"
  depends_on   = [google_project_service.apis]
}

resource "google_project_iam_member" "firestore_user" {
  for_each = local.deployed_functions
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

resource "google_project_iam_member" "vertex_user" {
  for_each = { for k, v in local.deployed_functions : k => v if v.model }
  project  = var.project_id
  role     = "roles/aiplatform.user"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Sensitive Data Protection for PII masking, only with pii_backend = "dlp".
resource "google_project_iam_member" "dlp_user" {
  for_each = { for k, v in local.deployed_functions : k => v if var.pii_backend == "dlp" }
  project  = var.project_id
  role     = "roles/dlp.user"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# A trained router in gs://<bucket>/<prefix>: read access to that bucket only.
resource "google_storage_bucket_iam_member" "router_reader" {
  for_each = { for k, v in local.deployed_functions : k => v if local.router_bucket != "" }
  bucket   = local.router_bucket
  role     = "roles/storage.objectViewer"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

resource "google_pubsub_topic_iam_member" "events_publisher" {
  for_each = local.deployed_functions
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
  for_each  = local.deployed_functions
  secret_id = google_secret_manager_secret.pseudonym_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# The ticket-close push subscription authenticates as its own account (OIDC token) and
# may invoke only ticket_closed.
resource "google_service_account" "push" {
  account_id   = "cx-ticket-closed-push"
  display_name = "CX Copilot ticket-close push subscription"
  depends_on   = [google_project_service.apis]
}

resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  location = var.region
  name     = google_cloudfunctions2_function.fn["ticket_closed"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}

# Pub/Sub's service agent mints the OIDC tokens for the push accounts.
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

# No unauthenticated access. The platform's identities may invoke the agent-facing HTTP
# functions with Google ID tokens (used when http_ingress = "ALLOW_ALL", or from inside the VPC);
# through the load balancer, IAP is the gate and its own service agent invokes (lb.tf).
# privacy_request has no direct invoker at all: only IAP's service agent (see below).
resource "google_cloud_run_v2_service_iam_member" "http_invoker" {
  for_each = {
    for pair in setproduct(local.agent_functions, var.invoker_members) :
    "${pair[0]}|${pair[1]}" => { function = pair[0], member = pair[1] }
  }
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.value.function].name
  role     = "roles/run.invoker"
  member   = each.value.member
}

# --- Function builds run as their own account --------------------------------------------------
# Roles from "Cloud Run functions: build service account" (logs, the built image, the source
# archive): https://cloud.google.com/run/docs/configuring/services/build-service-account
resource "google_service_account" "fn_build" {
  account_id   = "cx-fn-build"
  display_name = "CX Copilot function builds (Cloud Build)"
  depends_on   = [google_project_service.apis]
}

resource "google_project_iam_member" "fn_build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer", "roles/storage.objectAdmin"])
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.fn_build.email}"
}

# IAM grants take a while to be seen everywhere; a brand-new project's first function build
# would otherwise race the grants it needs (build account, runtime account, secret access).
resource "time_sleep" "iam_propagation" {
  create_duration = "90s"
  triggers = {
    build_account = google_service_account.fn_build.email
  }
  depends_on = [
    google_project_iam_member.fn_build, google_project_iam_member.firestore_user,
    google_secret_manager_secret_iam_member.pseudonym_key, google_pubsub_topic_iam_member.events_publisher,
  ]
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

# --- Privacy requests: the privacy team only, through IAP -----------------------------------------
# privacy_request is fronted like every HTTP function (lb.tf: /api/privacy_request, IAP on, only
# IAP's service agent holds run.invoker), but IAP admits only var.privacy_members to it: agents and
# the platform get no access (lb.tf grants them local.agent_functions). The code checks a second
# time: the caller's grant in config/safety/access.yaml must carry the role "privacy" (docs/data-in-out.md).
resource "google_iap_web_backend_service_iam_member" "privacy" {
  for_each = {
    for pair in setproduct(local.privacy_functions, var.privacy_members) :
    "${pair[0]}|${pair[1]}" => { function = pair[0], member = pair[1] }
  }
  project             = var.project_id
  web_backend_service = google_compute_backend_service.api[each.value.function].name
  role                = "roles/iap.httpsResourceAccessor"
  member              = each.value.member
}

# --- BigQuery: only the function that reads and deletes warehouse rows --------------------------
# Events reach cx_analytics through the Pub/Sub BigQuery subscription (its service agent is the
# dataset's writer, bigquery.tf); no function writes events to BigQuery itself. privacy_request
# exports a customer's events (SELECT) and erases their rows (DML DELETE on events_raw, mat_events,
# mat_tickets, qa_verdicts: shared/data/privacy.py), so it alone gets roles/bigquery.dataEditor on
# cx_analytics (not project-wide, not cx_kpi) and roles/bigquery.jobUser to run those queries.
# cx_analytics is granted through google_bigquery_dataset_access only (WRITER is the legacy name
# of roles/bigquery.dataEditor): the _iam_member family would drop the authorized cx_kpi views
# (bigquery.tf, "one mechanism per dataset").
resource "google_bigquery_dataset_access" "privacy_editor" {
  dataset_id    = google_bigquery_dataset.analytics.dataset_id
  role          = "WRITER"
  user_by_email = google_service_account.fn["privacy_request"].email
}

resource "google_project_iam_member" "privacy_bigquery_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.fn["privacy_request"].email}"
}
