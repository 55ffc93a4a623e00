# Every alert notifies the listed channels plus, if alert_email is set, an e-mail channel.
resource "google_monitoring_notification_channel" "email" {
  count        = var.alert_email == "" ? 0 : 1
  display_name = "CX Copilot alerts (${var.alert_email})"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
  depends_on = [google_project_service.apis]
}

locals {
  notification_channels = concat(var.alert_notification_channels, google_monitoring_notification_channel.email[*].id)
}

check "alerts_notify_somebody" {
  assert {
    condition     = length(var.alert_notification_channels) > 0 || var.alert_email != ""
    error_message = "No notification channel: the alerts (dead letters, Gemini configuration faults) will open incidents that notify nobody. Set alert_email or alert_notification_channels."
  }
}

# A parked ticket close is a KPI gap until someone replays it: alert as soon as one waits.
resource "google_monitoring_alert_policy" "ticket_closed_dead_letters" {
  display_name          = "CX Copilot: ticket-close dead letters waiting"
  combiner              = "OR"
  notification_channels = local.notification_channels
  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      Ticket-close messages are parked on `${google_pubsub_subscription.dead_letters["ticket_closed"].name}`
      (invalid payloads, or ${local.closed_max_delivery_attempts} failed deliveries). Read the `error` attribute or the
      function logs, fix the cause, then replay:
      `python -m scripts.replay_dead_letters --project ${var.project_id} --dry-run`, then without `--dry-run`.
    EOT
  }
  conditions {
    display_name = "dead-letter subscription is not empty"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.dead_letters["ticket_closed"].name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
      trigger {
        count = 1
      }
    }
  }
  alert_strategy {
    auto_close = "604800s"
  }
  depends_on = [google_project_service.apis]
}

# --- Gemini configuration faults: page on the first one ------------------------------------------
# The code logs severity ERROR with jsonPayload.event = "model.config_fault" when Vertex AI
# answers that the configured model does not exist (not found / retired) or that the function
# may not use it (permission denied): every request is then degraded until someone acts.
locals {
  model_config_fault_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "severity>=ERROR",
    "jsonPayload.event=\"model.config_fault\"",
  ])
}

# Counts them per function (for charts and SLOs).
resource "google_logging_metric" "model_config_fault" {
  name        = "cx-copilot/model_config_fault"
  description = "CX Copilot: Gemini configuration faults (model not found or retired, permission denied)"
  filter      = local.model_config_fault_filter
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "CX Copilot Gemini configuration faults"
    labels {
      key         = "service"
      value_type  = "STRING"
      description = "Function (Cloud Run service) that logged the fault"
    }
  }
  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }
  depends_on = [google_project_service.apis]
}

# The page: a log-match condition on the same filter as the metric, so any occurrence alerts
# within minutes. (A threshold condition on the new metric cannot be created in the same apply:
# Monitoring answers 404 "Cannot find metric(s)... up to 10 minutes" until the metric has
# data, hashicorp/terraform-provider-google#11102, and a first apply must not fail.)
resource "google_monitoring_alert_policy" "model_config_fault" {
  display_name          = "CX Copilot: Gemini configuration fault"
  combiner              = "OR"
  notification_channels = local.notification_channels
  severity              = "CRITICAL"
  documentation {
    mime_type = "text/markdown"
    subject   = "CX Copilot: Gemini model misconfigured (every suggestion is degraded)"
    content   = <<-EOT
      A function logged `model.config_fault`: Vertex AI rejected the configured Gemini model, so
      every suggestion falls back to the offline engine (`degraded: true`) until this is fixed.
      Open the log entry (metric `${google_logging_metric.model_config_fault.name}`, label `service`)
      and read its `reason`:

      - **model not found / retired** (404, or "was not found or your project does not have
        access"): the model id in `config/engine/models.yaml` (or the `gemini_model` Terraform variable)
        no longer exists in location `${var.gemini_location}`. Change the profile in
        `config/engine/models.yaml` to a current model, deploy, and check with `cx smoke --project ${var.project_id}`.
      - **permission denied** (403): the function's service account lacks `roles/aiplatform.user`
        (granted by Terraform to every function with `model = true` in `infra/terraform/locals.tf`),
        or the Vertex AI API is disabled. Re-apply Terraform, or grant the role:
        `gcloud projects add-iam-policy-binding ${var.project_id} --member=serviceAccount:cx-<function>@${var.project_id}.iam.gserviceaccount.com --role=roles/aiplatform.user`.
    EOT
  }
  conditions {
    display_name = "a function logged model.config_fault"
    condition_matched_log {
      filter = local.model_config_fault_filter
      label_extractors = {
        service = "EXTRACT(resource.labels.service_name)"
      }
    }
  }
  alert_strategy {
    notification_rate_limit {
      period = "300s"
    }
    auto_close = "1800s"
  }
  depends_on = [google_project_service.apis]
}
