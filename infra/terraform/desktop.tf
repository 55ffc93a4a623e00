# --- The agent desktop, behind IAP like the APIs ------------------------------------------------
# IAP cannot protect a backend bucket, and a public page could not call the IAP-protected
# /api/* anyway (the browser needs IAP's sign-in cookie, which it only gets by navigating to
# an IAP-protected URL). So the static files are served by a small Cloud Run service (a stock
# nginx image, no code of ours) that mounts their bucket read-only, behind its own IAP-enabled
# backend service. The bucket stays private.

locals {
  desktop_dir   = "${path.module}/../../web/agent-desktop"
  desktop_files = fileset(local.desktop_dir, "**")
  content_types = {
    html = "text/html; charset=utf-8", js = "text/javascript; charset=utf-8", css = "text/css; charset=utf-8",
    json = "application/json", svg = "image/svg+xml", png = "image/png", ico = "image/x-icon",
  }
  # queues.json, as scripts/devstack.py (queue_catalogue_json) builds it from config/decisions/queues.yaml;
  # a test compares the two.
  queue_catalogue = yamldecode(file("${path.module}/../../config/decisions/queues.yaml"))
  desktop_queues_json = jsonencode({
    version = local.queue_catalogue.version
    triage  = { label = local.queue_catalogue.triage.label, code = local.queue_catalogue.triage.code }
    groups = [
      for g in local.queue_catalogue.groups : { label = g.label, code = g.code, sla_business_days = g.sla_business_days }
    ]
  })
}

resource "google_storage_bucket" "desktop" {
  # checkov:skip=CKV_GCP_62: static page files only, rewritten by every apply; access is in Cloud Audit Logs
  name                        = "${var.project_id}-cx-agent-desktop"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      num_newer_versions = 3
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_object" "desktop" {
  for_each     = local.desktop_files
  name         = each.value
  bucket       = google_storage_bucket.desktop.name
  source       = "${local.desktop_dir}/${each.value}"
  content_type = lookup(local.content_types, reverse(split(".", each.value))[0], "application/octet-stream")
}

resource "google_storage_bucket_object" "desktop_queues" {
  name         = "queues.json"
  bucket       = google_storage_bucket.desktop.name
  content      = local.desktop_queues_json
  content_type = "application/json"
}

resource "google_service_account" "desktop" {
  account_id   = "cx-agent-desktop"
  display_name = "CX Copilot agent desktop (static files)"
  depends_on   = [google_project_service.apis]
}

resource "google_storage_bucket_iam_member" "desktop_reader" {
  bucket = google_storage_bucket.desktop.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.desktop.email}"
}

resource "google_cloud_run_v2_service" "desktop" {
  name                = "cx-agent-desktop"
  location            = var.region
  ingress             = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  deletion_protection = false # stateless: the files are in the bucket
  labels              = { app = "cx-copilot", environment = var.environment, commit = local.label_commit }
  template {
    service_account       = google_service_account.desktop.email
    execution_environment = "EXECUTION_ENVIRONMENT_GEN2"
    scaling {
      min_instance_count = 0
      max_instance_count = 3
    }
    containers {
      image = var.desktop_image
      ports {
        container_port = 80
      }
      resources {
        limits   = { cpu = "1", memory = "512Mi" }
        cpu_idle = true
      }
      volume_mounts {
        name       = "site"
        mount_path = "/usr/share/nginx/html"
      }
    }
    volumes {
      name = "site"
      gcs {
        bucket    = google_storage_bucket.desktop.name
        read_only = true
      }
    }
  }
  depends_on = [google_project_service.apis, google_storage_bucket_iam_member.desktop_reader]
}
