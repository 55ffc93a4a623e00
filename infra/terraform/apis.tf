resource "google_project_service" "apis" {
  for_each = toset(concat([
    "aiplatform.googleapis.com", "artifactregistry.googleapis.com", "bigquery.googleapis.com",
    "bigquerydatatransfer.googleapis.com", "cloudbuild.googleapis.com", "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com", "compute.googleapis.com", "firestore.googleapis.com", "iam.googleapis.com",
    "iap.googleapis.com", "logging.googleapis.com", "monitoring.googleapis.com", "pubsub.googleapis.com",
    "run.googleapis.com", "secretmanager.googleapis.com", "storage.googleapis.com",
  ], var.pii_backend == "dlp" ? ["dlp.googleapis.com"] : []))
  service            = each.value
  disable_on_destroy = false
}

data "google_project" "this" {}

# Service agents this configuration grants roles to, created explicitly so that the grants do
# not race the lazy creation of the agents on a new project.
resource "google_project_service_identity" "pubsub" {
  provider   = google-beta
  project    = var.project_id
  service    = "pubsub.googleapis.com"
  depends_on = [google_project_service.apis]
}

# The IAP service agent invokes the functions behind the load balancer. Enabling the API does
# not create it reliably, so it is created explicitly (beta-only resource).
resource "google_project_service_identity" "iap" {
  provider   = google-beta
  project    = var.project_id
  service    = "iap.googleapis.com"
  depends_on = [google_project_service.apis]
}
