output "function_urls" {
  description = "Point the contact-center platform here (callers need a Google ID token)."
  value       = { for k, f in google_cloudfunctions2_function.fn : k => f.service_config[0].uri if local.functions[k].http }
}

output "events_topic" {
  value = google_pubsub_topic.events.id
}

output "ticket_closed_topic" {
  value = google_pubsub_topic.ticket_closed.id
}
