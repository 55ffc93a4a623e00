# --- The account Cloud Build deploys as ----------------------------------------------------------
# cloudbuild.yaml's steps: tests (no Google Cloud access), `terraform validate` (none), and on
# main `terraform init` with the GCS state bucket + `terraform apply` of this directory. The
# roles below are what that apply manages, resource family by resource family; nothing else.
# Use it: gcloud builds submit --service-account=projects/$PROJECT/serviceAccounts/<output
# deployer_service_account>, or `--service-account` on `gcloud builds triggers create`.
# (It can change IAM, as any account that applies this configuration must: treat who may act
# as it like project owners.)
resource "google_service_account" "deployer" {
  account_id   = "cx-deployer"
  display_name = "CX Copilot deploy (Cloud Build: terraform apply)"
  depends_on   = [google_project_service.apis]
}

locals {
  deployer_roles = {
    "roles/logging.logWriter"                    = "build logs (options.logging: CLOUD_LOGGING_ONLY)"
    "roles/storage.admin"                        = "Terraform state bucket; source and desktop buckets, objects, bucket IAM"
    "roles/serviceusage.serviceUsageAdmin"       = "google_project_service, google_project_service_identity"
    "roles/iam.serviceAccountAdmin"              = "google_service_account, google_service_account_iam_member"
    "roles/resourcemanager.projectIamAdmin"      = "google_project_iam_member, google_project_iam_audit_config, data.google_project"
    "roles/cloudfunctions.admin"                 = "google_cloudfunctions2_function"
    "roles/run.admin"                            = "google_cloud_run_v2_service (desktop), google_cloud_run_v2_service_iam_member"
    "roles/pubsub.admin"                         = "topics, subscriptions, their IAM"
    "roles/bigquery.admin"                       = "datasets, tables, views, dataset access, jobs, the scheduled query"
    "roles/datastore.owner"                      = "google_firestore_database, _index, _field"
    "roles/secretmanager.admin"                  = "the secret, its version and IAM"
    "roles/monitoring.alertPolicyEditor"         = "google_monitoring_alert_policy"
    "roles/monitoring.notificationChannelEditor" = "google_monitoring_notification_channel"
    "roles/logging.configWriter"                 = "google_logging_metric"
    "roles/cloudscheduler.admin"                 = "google_cloud_scheduler_job"
    "roles/compute.loadBalancerAdmin"            = "address, certificate, SSL policy, NEGs, backend services, URL maps, proxies, forwarding rules"
    "roles/iap.admin"                            = "google_iap_web_backend_service_iam_member, google_iap_settings"
  }
}

resource "google_project_iam_member" "deployer" {
  # checkov:skip=CKV_GCP_49: the deployer creates the runtime service accounts and sets IAM on them (iam.serviceAccounts.create exists only at project level); actAs is granted per account below, not project-wide
  for_each = local.deployer_roles
  project  = var.project_id
  role     = each.key
  member   = "serviceAccount:${google_service_account.deployer.email}"
}

# Deploying a function, service, push subscription or scheduled query "as" an account needs
# actAs on that account: granted on each runtime account, not project-wide.
resource "google_service_account_iam_member" "deployer_act_as" {
  for_each = merge(
    { for k, sa in google_service_account.fn : "fn-${k}" => sa.name },
    { for i, sa in google_service_account.drain_push : "drain-push-${i}" => sa.name },
    {
      fn-build    = google_service_account.fn_build.name
      push        = google_service_account.push.name
      materialize = google_service_account.materialize.name
      desktop     = google_service_account.desktop.name
    },
  )
  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}
