variable "alert_notification_channels" {
  type        = list(string)
  default     = []
  description = "Monitoring notification channel ids (projects/…/notificationChannels/…) told about dead letters."
}

# A parked ticket close is a KPI gap until someone replays it: alert as soon as one waits.
resource "google_monitoring_alert_policy" "ticket_closed_dead_letters" {
  display_name          = "CX Copilot: ticket-close dead letters waiting"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
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
