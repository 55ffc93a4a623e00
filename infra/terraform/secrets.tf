# HMAC key for pseudonymous customer keys. The first apply creates its first version, so the
# functions (which mount version "latest") start on an empty project; the key itself never
# enters plan or state: an ephemeral random value is sent through the write-only argument
# secret_data_wo (Terraform >= 1.11, google >= 6.23, random >= 3.7). It is sent only when the
# version resource is created or secret_data_wo_version changes; on other applies the fresh
# random value is discarded unused.
resource "google_secret_manager_secret" "pseudonym_key" {
  secret_id = "cx-pseudonym-key"
  replication {
    auto {}
  }
  depends_on = [google_project_service.apis]
}

ephemeral "random_password" "pseudonym_key" {
  count   = var.manage_pseudonym_key ? 1 : 0
  length  = 64
  special = false
}

resource "google_secret_manager_secret_version" "pseudonym_key" {
  count                  = var.manage_pseudonym_key ? 1 : 0
  secret                 = google_secret_manager_secret.pseudonym_key.id
  secret_data_wo         = ephemeral.random_password.pseudonym_key[0].result
  secret_data_wo_version = var.pseudonym_key_version
  # A rotation (new secret_data_wo_version) keeps the previous key, disabled, instead of
  # destroying it: old pseudonyms stay reproducible if the key has to be restored.
  deletion_policy = "DISABLE"
}
