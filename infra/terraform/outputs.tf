output "lb_ip" {
  description = "Point the DNS A record of var.domain here; the managed certificate is issued once it resolves."
  value       = google_compute_global_address.lb.address
}

output "desktop_url" {
  description = "The agent desktop, behind IAP."
  value       = "https://${var.domain}/"
}

output "api_urls" {
  description = "Each HTTP function through the load balancer (IAP): the platform calls these."
  value       = { for k, v in local.http_functions : k => "https://${var.domain}/api/${k}" }
}

output "iap_audiences" {
  description = "The aud claim of x-goog-iap-jwt-assertion per backend (/projects/NUMBER/global/backendServices/ID); each function gets its own in CX_IAP_AUDIENCE."
  value       = merge(local.iap_audiences, { desktop = local.iap_audience_desktop })
}

output "function_urls" {
  description = "Direct run.app URLs (Google ID token with this audience; reachable from outside only with http_ingress = ALLOW_ALL)."
  value       = { for k, f in google_cloudfunctions2_function.fn : k => f.service_config[0].uri if local.deployed_functions[k].http }
}

output "deployer_service_account" {
  description = "Run Cloud Build (cloudbuild.yaml) as this account: gcloud builds submit --service-account=projects/PROJECT/serviceAccounts/<this>."
  value       = google_service_account.deployer.email
}

output "events_topic" {
  value = google_pubsub_topic.events.id
}

output "ticket_closed_topic" {
  value = google_pubsub_topic.ticket_closed.id
}

output "snapshot_sync_topic" {
  description = "Where the company's systems publish change events (functions/sync_events.schema.json); var.sync_publisher_members may publish."
  value       = google_pubsub_topic.snapshot_sync.id
}

output "dead_letter_subscriptions" {
  description = "Parked messages per source, and the topic `cx dlq replay --project P --source <source>` republishes them to."
  value = {
    ticket_closed = { subscription = google_pubsub_subscription.dead_letters["ticket_closed"].name, topic = google_pubsub_topic.ticket_closed.name }
    snapshot_sync = { subscription = google_pubsub_subscription.snapshot_sync_dead_letters.name, topic = google_pubsub_topic.snapshot_sync.name }
    events_bq     = { subscription = google_pubsub_subscription.dead_letters["events_bq"].name, topic = google_pubsub_topic.events.name }
  }
}

output "alert_channels" {
  description = "Notification channels every alert uses (empty: alerts notify nobody)."
  value       = local.notification_channels
}
