resource "google_storage_bucket" "source" {
  # checkov:skip=CKV_GCP_62: holds only deploy archives (deleted after 90 days); admin access is in Cloud Audit Logs
  name                        = "${var.project_id}-cx-copilot-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      age = 90
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

data "archive_file" "source" {
  type        = "zip"
  source_dir  = local.source_root
  output_path = "${path.module}/.build/source.zip"
  excludes = [
    ".git", ".venv", ".venv-infra", ".venv-eval", ".local", ".ci", ".pytest_cache", ".ruff_cache", ".hypothesis",
    "tests", "infra", "scripts", "cloudbuild.yaml", "README.md", "requirements-dev.txt", "requirements-infra.txt",
    "requirements-eval.txt",
  ]
}

resource "google_storage_bucket_object" "source" {
  name   = "source-${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "fn" {
  # checkov:skip=CKV_GCP_124: ingress is var.http_ingress (default ALLOW_INTERNAL_AND_GCLB; ALLOW_ALL only as the documented, IAM-protected fallback) for HTTP functions and ALLOW_INTERNAL_ONLY for event functions; checkov cannot resolve each.value over the merged function map
  for_each = local.deployed_functions
  name     = replace(each.key, "_", "-")
  location = var.region
  labels   = { app = "cx-copilot", environment = var.environment, commit = local.label_commit }

  build_config {
    runtime     = "python312"
    entry_point = each.key
    # Our own build account: new projects' default build account may lack the permissions
    # (Cloud Build service account change of July 2024).
    service_account = google_service_account.fn_build.id
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    max_instance_request_concurrency = each.value.concurrency
    min_instance_count               = each.value.min
    max_instance_count               = each.value.max
    timeout_seconds                  = each.value.timeout
    service_account_email            = google_service_account.fn[each.key].email
    # HTTP functions: the load balancer (IAP) and internal callers only, by default.
    ingress_settings               = each.value.http ? var.http_ingress : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    # gunicorn threads match the request concurrency; an HTTP function accepts the IAP JWT
    # audience of its own backend service (JSON list; empty for event functions).
    environment_variables = merge(local.runtime_environment, {
      THREADS         = tostring(each.value.concurrency)
      CX_IAP_AUDIENCE = jsonencode(compact([lookup(local.iap_audiences, each.key, "")]))
    })
    secret_environment_variables {
      key        = "CX_PSEUDONYM_KEY"
      project_id = var.project_id
      secret     = google_secret_manager_secret.pseudonym_key.secret_id
      version    = "latest"
    }
  }

  # No event_trigger: ticket_closed is pushed to by the subscription in pubsub.tf, which we
  # manage ourselves so that it can carry a dead-letter policy (an Eventarc trigger creates
  # its own subscription, which Terraform cannot configure). See README: ticket close.

  depends_on = [
    google_project_iam_member.firestore_user, google_pubsub_topic_iam_member.events_publisher,
    google_secret_manager_secret_iam_member.pseudonym_key, google_secret_manager_secret_version.pseudonym_key,
    time_sleep.iam_propagation,
  ]
}
