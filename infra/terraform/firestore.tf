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

# Retention (config/data/retention.yaml): every store with a rule gets a TTL policy on expire_at, the
# timestamp the code writes when it stores a document (time field + days). Firestore deletes a
# document typically within 24 hours after it passes. index_config {} builds no single-field index
# for expire_at: nothing queries it, and an index on a timestamp every write sets is a write
# hotspot (Firestore's TTL guidance).
resource "google_firestore_field" "ttl" {
  for_each   = local.retention.firestore
  database   = google_firestore_database.default.name
  collection = local.retention_collections[each.key]
  field      = "expire_at"
  ttl_config {}
  index_config {}
}

# The suggestions' policy existed before retention.yaml: same field, now one of the set.
moved {
  from = google_firestore_field.suggestions_ttl
  to   = google_firestore_field.ttl["suggestions"]
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
# the masked context and its pseudonym mapping expire with the history they came from. Not a store
# of retention.yaml: the code derives expire_at from it (the retention end of the oldest interaction
# the context holds, by the interactions rule, or the month end, whichever is first).
resource "google_firestore_field" "prepared_context_ttl" {
  database   = google_firestore_database.default.name
  collection = "context"
  field      = "expire_at"
  ttl_config {}
  index_config {}
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
