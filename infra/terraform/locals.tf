locals {
  prefix       = "cx"
  dataset      = "cx_analytics"
  events_topic = "cx-events"
  closed_topic = "cx-ticket-closed"
  closed_dlq   = "cx-ticket-closed-dlq"
  bq_dlq       = "cx-events-bq-dlq"
  drain_topic  = "cx-outbox-drain"
  sync_topic   = "cx-snapshot-sync"
  sync_dlq     = "cx-snapshot-sync-dlq"
  sweep_topic  = "cx-commitment-sweep"
  # The overdue sweep runs every 15 minutes; a run that reaches its budget re-publishes itself.
  sweep_schedule = "*/15 * * * *"
  # 20 attempts with 10 s..600 s backoff: about 2.5 h of retries before a message is parked.
  closed_max_delivery_attempts = 20
  model_roles                  = ["roles/aiplatform.user"]
  sql_dir                      = "${path.module}/../bigquery"
  source_root                  = "${path.module}/../.."
  label_commit                 = substr(lower(replace(var.commit_sha, "/[^a-z0-9_-]/", "-")), 0, 63)
  # gs://bucket/prefix -> bucket (the functions may read it); anything else -> none.
  router_bucket = startswith(var.router_artefact, "gs://") ? split("/", trimprefix(var.router_artefact, "gs://"))[0] : ""
  # The platform's service accounts, for the code's allowlist (CX_TRUSTED_PLATFORM_SAS).
  platform_service_accounts = [for m in var.invoker_members : trimprefix(m, "serviceAccount:") if startswith(m, "serviceAccount:")]

  # How long each store keeps data (config/data/retention.yaml, shipped with the code, which stamps
  # expire_at from the same file): the single source of the Firestore TTL policies (firestore.tf),
  # the events_raw partition expiration (bigquery.tf) and CX_SUGGESTION_TTL_DAYS.
  retention = yamldecode(file("${path.module}/../../config/data/retention.yaml"))
  # The Firestore collection (group) of each store the file names; a store missing here fails
  # the plan ("Invalid index"), so a new retention rule cannot go unenforced.
  retention_collections = {
    interactions = "interactions" # customers/*/interactions: the TTL policy covers the collection group
    suggestions  = local.environment.CX_SUGGESTIONS_COLLECTION
    next_steps   = local.environment.CX_NEXT_STEPS_COLLECTION
    feedback     = local.environment.CX_FEEDBACK_COLLECTION
    event_outbox = local.environment.CX_OUTBOX_COLLECTION
  }

  # Who reaches each HTTP function. privacy_request is the privacy team's alone: IAP admits only
  # var.privacy_members to it (iam.tf), and neither agents nor the platform may call it.
  privacy_functions = ["privacy_request"]
  agent_functions   = [for k in keys(local.http_functions) : k if !contains(local.privacy_functions, k)]

  # One entry per entry point in main.py (a test keeps the two in step). Memory: the instance's
  # footprint after 1,000 requests (`cx bench functions --requests 1000`, docs/performance.md) is at
  # most 60 % of it; ticket_closed loads what next_steps does.
  functions = {
    context_summary    = { memory = "640Mi", cpu = "1", concurrency = 8, timeout = 30, min = 0, max = 20, model = true, http = true }
    reply_draft        = { memory = "768Mi", cpu = "1", concurrency = 8, timeout = 30, min = 0, max = 20, model = true, http = true }
    next_best_action   = { memory = "640Mi", cpu = "1", concurrency = 8, timeout = 30, min = 0, max = 20, model = true, http = true }
    next_steps         = { memory = "640Mi", cpu = "1", concurrency = 8, timeout = 60, min = 0, max = 20, model = true, http = true }
    confirm_next_steps = { memory = "640Mi", cpu = "1", concurrency = 16, timeout = 30, min = 0, max = 10, model = false, http = true }
    closing_message    = { memory = "640Mi", cpu = "1", concurrency = 8, timeout = 30, min = 0, max = 10, model = true, http = true }
    feedback           = { memory = "640Mi", cpu = "1", concurrency = 16, timeout = 30, min = 0, max = 10, model = false, http = true }
    ticket_closed      = { memory = "640Mi", cpu = "1", concurrency = 1, timeout = 120, min = 0, max = 10, model = true, http = false }
    outbox_drain       = { memory = "256Mi", cpu = "1", concurrency = 1, timeout = 240, min = 0, max = 1, model = false, http = false }
    privacy_request    = { memory = "512Mi", cpu = "1", concurrency = 4, timeout = 300, min = 0, max = 3, model = false, http = true }
    snapshot_sync      = { memory = "256Mi", cpu = "1", concurrency = 8, timeout = 60, min = 0, max = 20, model = false, http = false }
    commitment_update  = { memory = "256Mi", cpu = "1", concurrency = 16, timeout = 30, min = 0, max = 10, model = false, http = true }
    commitment_sweep   = { memory = "512Mi", cpu = "1", concurrency = 1, timeout = 540, min = 0, max = 1, model = false, http = false }
  }

  deployed_functions = { for k, v in local.functions : k => v if k != "outbox_drain" || var.enable_outbox_drain_function }
  http_functions     = { for k, v in local.deployed_functions : k => v if v.http }

  # Every setting the code reads (shared/config.py), set explicitly per environment.
  environment = {
    CX_PROJECT                     = var.project_id
    CX_REGION                      = var.region
    CX_ENVIRONMENT                 = var.environment
    CX_MODEL_BACKEND               = "vertex"
    CX_MODELS_FILE                 = "engine/models.yaml"
    CX_TEMPERATURE                 = "0.2"
    CX_MODEL_TIMEOUT_MS            = "8000"
    CX_LATENCY_BUDGET_MS           = "12000"
    CX_MODEL_RETRY_ATTEMPTS        = "2"
    CX_MODEL_RETRY_INITIAL_DELAY_S = "0.25"
    CX_MODEL_RETRY_MAX_DELAY_S     = "1"
    CX_CONTEXT_TOKEN_BUDGET        = "1200"
    CX_SNAPSHOT_LIMIT              = "50"
    CX_PREPARED_CONTEXT            = "true"
    CX_FIRESTORE_DATABASE          = "(default)"
    CX_CUSTOMERS_COLLECTION        = "customers"
    CX_OUTBOX_COLLECTION           = "event_outbox"
    CX_KB_COLLECTION               = "kb_articles"
    CX_NEXT_STEPS_COLLECTION       = "next_steps"
    CX_COMMITMENTS_COLLECTION      = "commitments"
    CX_COMMITMENT_SWEEP_TOPIC      = local.sweep_topic
    CX_COMMITMENT_SWEEP_PAGE       = "500"
    CX_COMMITMENT_SWEEP_BUDGET_S   = "420"
    CX_SUGGESTIONS_COLLECTION      = "suggestions"
    CX_FEEDBACK_COLLECTION         = "feedback"
    CX_SUGGESTION_TTL_DAYS         = tostring(local.retention.firestore.suggestions.days)
    CX_OFFER_STATS_SHARDS          = "10"
    CX_OFFERS_COLLECTION           = "offers"
    CX_OFFER_STATS_COLLECTION      = "offer_stats"
    CX_OFFERS_CACHE_TTL_S          = "60"
    CX_NBA_MAX_CANDIDATES          = "5"
    CX_NBA_REPORT_TOP              = "20"
    CX_EMBEDDING_MODEL             = "text-multilingual-embedding-002"
    CX_EMBEDDING_DIM               = "256"
    CX_LOCAL_EMBEDDING_DIM         = "1024"
    CX_EVENTS_TOPIC                = local.events_topic
    CX_TICKET_CLOSED_TOPIC         = local.closed_topic
    CX_TICKET_CLOSED_DLQ_TOPIC     = local.closed_dlq
    CX_SNAPSHOT_SYNC_TOPIC         = local.sync_topic
    CX_SNAPSHOT_SYNC_DLQ_TOPIC     = local.sync_dlq
    CX_SYNC_TOMBSTONES_COLLECTION  = "sync_tombstones"
    CX_WAREHOUSE_DATASET           = local.dataset
    CX_EVENTS_MAX_LATENCY_S        = "0.005"
    CX_EVENTS_MAX_MESSAGES         = "100"
    CX_EVENTS_PUBLISH_TIMEOUT_S    = "2.0"
    CX_OUTBOX_DRAIN_BUDGET_S       = "200"
    CX_FIRESTORE_TIMEOUT_S         = "5.0"
    CX_FIRESTORE_RETRY_BUDGET_S    = "3.0"
    CX_CUSTOMER_STATS_SHARDS       = "10"
    CX_MAX_INTERACTIONS            = "1000"
    CX_MAX_REQUEST_BYTES           = "262144"
    CX_PROMPT_VERSIONS             = jsonencode({ context_summary = "v1", next_best_action = "v1", reply_draft = "v1", next_steps = "v2", closing_message = "v2" })
    CX_AGENT_LANGUAGE              = "en"
    CX_DETECT_LANGUAGES            = jsonencode(["en", "de", "fr", "es", "pt", "it", "nl", "pl", "sv", "da", "tr"])
    CX_LOG_LEVEL                   = "INFO"
    CX_CORS_ORIGINS                = jsonencode(var.cors_origins)
    CX_PII_BACKEND                 = var.pii_backend
    CX_PII_DLP_LOCATION            = "global"
    CX_ROUTER_ARTEFACT             = var.router_artefact
    CX_PRELOAD                     = "true"
    CX_TRUSTED_PLATFORM_SAS        = jsonencode(local.platform_service_accounts)
  }

  # Set only when given: empty means "the code decides" (config/engine/models.yaml for the model).
  optional_environment = {
    CX_GEMINI_LOCATION = var.gemini_location
    CX_GEMINI_MODEL    = var.gemini_model
  }
  runtime_environment = merge(local.environment, { for k, v in local.optional_environment : k => v if v != "" })
}
