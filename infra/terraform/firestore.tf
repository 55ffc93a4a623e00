resource "google_firestore_database" "default" {
  name                              = "(default)"
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  depends_on                        = [google_project_service.apis]
}

# Vector index for knowledge retrieval with Vertex embeddings (field emb_<embedder name>).
resource "google_firestore_index" "kb_vector" {
  database    = google_firestore_database.default.name
  collection  = "kb_articles"
  query_scope = "COLLECTION"
  fields {
    field_path = "emb_textmultilingualembedding002256"
    vector_config {
      dimension = 256
      flat {}
    }
  }
}

# Stored suggestions expire (TTL on expire_at); single-field indexes cover every other query.
resource "google_firestore_field" "suggestions_ttl" {
  database   = google_firestore_database.default.name
  collection = "suggestions"
  field      = "expire_at"
  ttl_config {}
}

# Commitments: the sweep's one query (status == "open" AND due_at <= now ORDER BY due_at), and the
# per-customer / per-ticket reads of open and overdue commitments (shared/data/commitments.py).
resource "google_firestore_index" "commitments_due" {
  database    = google_firestore_database.default.name
  collection  = "commitments"
  query_scope = "COLLECTION"
  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "due_at"
    order      = "ASCENDING"
  }
}

resource "google_firestore_index" "commitments_by" {
  for_each    = toset(["customer_id", "ticket_id"])
  database    = google_firestore_database.default.name
  collection  = "commitments"
  query_scope = "COLLECTION"
  fields {
    field_path = each.value
    order      = "ASCENDING"
  }
  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
}

# Prepared customer contexts (customers/{id}/context/prepared, shared/safety/prepared_context.py):
# the masked context and its pseudonym mapping expire with the history they came from (TTL on
# expire_at: the month end or the retention end of the oldest interaction they hold), and the
# one large JSON field is never queried, so it is kept out of the single-field indexes.
resource "google_firestore_field" "prepared_context_ttl" {
  database   = google_firestore_database.default.name
  collection = "context"
  field      = "expire_at"
  ttl_config {}
}

resource "google_firestore_field" "prepared_context_unindexed" {
  database   = google_firestore_database.default.name
  collection = "context"
  field      = "built"
  index_config {}
}
