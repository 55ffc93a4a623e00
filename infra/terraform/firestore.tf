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

# ticket_closed's repeat-contact lookup (shared/data/snapshots.py), per customer: the closed tickets
# of one category closed within 30 days before this opening, latest first, and the nearest closed
# ticket of the category opened within 30 days after this close.
resource "google_firestore_index" "tickets_closed_in_window" {
  database    = google_firestore_database.default.name
  collection  = "tickets"
  query_scope = "COLLECTION"
  fields {
    field_path = "category"
    order      = "ASCENDING"
  }
  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "closed_at"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "tickets_opened_in_window" {
  database    = google_firestore_database.default.name
  collection  = "tickets"
  query_scope = "COLLECTION"
  fields {
    field_path = "category"
    order      = "ASCENDING"
  }
  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "opened_at"
    order      = "ASCENDING"
  }
}
