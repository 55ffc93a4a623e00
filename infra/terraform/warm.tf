# --- Warm instances in opening hours -------------------------------------------------------------
# A new instance needs its models before its first answer (docs/performance.md), so the functions
# an agent waits for keep var.min_instances_open warm instances while agents work and scale to
# zero outside opening hours. Two Cloud Scheduler jobs per function call the Cloud Run Admin API
# (the function's service, PATCH with updateMask=scaling.minInstanceCount): service-level minimum
# instances apply at once, without a new revision, and the revision-level min_instance_count in
# functions.tf stays 0 (Google advises against combining the two). Terraform does not manage the
# service-level value, so an apply never resets it; a job that fails is retried, and the next
# day's jobs set it again. With min_instances_open = 0 the opening job sets 0 as well.

locals {
  warm_functions = toset([for f in var.warm_functions : f if contains(keys(local.http_functions), f)])
  warm_schedules = {
    open  = { cron = var.opening_hours_open_cron, min = var.min_instances_open }
    close = { cron = var.opening_hours_close_cron, min = 0 }
  }
  warm_jobs = {
    for pair in setproduct(local.warm_functions, keys(local.warm_schedules)) :
    "${pair[0]}-${pair[1]}" => { function = pair[0], when = pair[1] }
  }
}

# The scheduler's identity: may update only the warm functions' services.
resource "google_service_account" "warm_scaler" {
  account_id   = "cx-warm-scaler"
  display_name = "CX Copilot opening-hours warm instances (Cloud Scheduler)"
  depends_on   = [google_project_service.apis]
}

resource "google_cloud_run_v2_service_iam_member" "warm_scaler" {
  for_each = local.warm_functions
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.developer"
  member   = "serviceAccount:${google_service_account.warm_scaler.email}"
}

# Updating a service needs actAs on the identity it runs as.
resource "google_service_account_iam_member" "warm_scaler_act_as" {
  for_each           = local.warm_functions
  service_account_id = google_service_account.fn[each.key].name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.warm_scaler.email}"
}

# Creating a job that authenticates as the scaler needs actAs on it (deployer.tf grants the rest).
resource "google_service_account_iam_member" "deployer_act_as_warm_scaler" {
  service_account_id = google_service_account.warm_scaler.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_cloud_scheduler_job" "warm" {
  for_each         = local.warm_jobs
  name             = "cx-warm-${replace(each.value.function, "_", "-")}-${each.value.when}"
  description      = "CX Copilot: ${each.value.function} keeps ${local.warm_schedules[each.value.when].min} warm instance(s) from ${each.value.when == "open" ? "opening" : "closing"} time"
  region           = var.region
  schedule         = local.warm_schedules[each.value.when].cron
  time_zone        = var.opening_hours_time_zone
  attempt_deadline = "60s"
  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
    max_backoff_duration = "300s"
  }
  http_target {
    http_method = "PATCH"
    uri         = "https://run.googleapis.com/v2/${google_cloudfunctions2_function.fn[each.value.function].service_config[0].service}?updateMask=scaling.minInstanceCount"
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode(jsonencode({ scaling = { minInstanceCount = local.warm_schedules[each.value.when].min } }))
    oauth_token {
      service_account_email = google_service_account.warm_scaler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }
  depends_on = [
    google_cloud_run_v2_service_iam_member.warm_scaler, google_service_account_iam_member.warm_scaler_act_as,
    google_service_account_iam_member.deployer_act_as_warm_scaler,
  ]
}
