# HMAC key for pseudonymous customer keys. Add the value out of band:
#   openssl rand -base64 48 | gcloud secrets versions add cx-pseudonym-key --data-file=-
resource "google_secret_manager_secret" "pseudonym_key" {
  secret_id = "cx-pseudonym-key"
  replication {
    auto {}
  }
  depends_on = [google_project_service.apis]
}
