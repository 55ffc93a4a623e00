variable "project_id" {
  type        = string
  description = "Google Cloud project to deploy into."
}

variable "region" {
  type        = string
  default     = "europe-west1"
  description = "Region for functions, Vertex AI and Firestore."
}

variable "environment" {
  type        = string
  default     = "prod"
  description = "dev | staging | prod (a secret pseudonym key is required outside dev)."
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "firestore_location" {
  type        = string
  default     = "eur3"
  description = "Firestore location (multi-region eur3, nam5, or a region)."
}

# --- Gemini: nothing model-specific is decided here ------------------------------------------
variable "gemini_location" {
  type        = string
  default     = "global"
  description = "Vertex AI location for Gemini calls (CX_GEMINI_LOCATION); \"global\" serves every current Gemini model. Empty = the code's default."
}

variable "gemini_model" {
  type        = string
  default     = ""
  description = "Model id override (CX_GEMINI_MODEL). Empty = the model profile in config/engine/models.yaml shipped with the code decides."
}

variable "invoker_members" {
  type        = list(string)
  default     = []
  description = "The contact-center platform's identities, e.g. [\"serviceAccount:platform@acme.iam.gserviceaccount.com\"]: IAP access to /api/* on the load balancer, run.invoker on the HTTP functions, and (service accounts) CX_TRUSTED_PLATFORM_SAS."
  validation {
    condition     = alltrue([for m in var.invoker_members : can(regex("^(serviceAccount|user|group|domain|principal|principalSet):", m))])
    error_message = "invoker_members are IAM members with a type prefix, e.g. serviceAccount:platform@acme.iam.gserviceaccount.com."
  }
}

variable "sync_publisher_members" {
  type        = list(string)
  default     = []
  description = "The company's systems that publish change events to cx-snapshot-sync (CRM, order and ticketing connectors), e.g. [\"serviceAccount:crm-sync@acme.iam.gserviceaccount.com\"]: roles/pubsub.publisher on that topic only."
  validation {
    condition     = alltrue([for m in var.sync_publisher_members : can(regex("^(serviceAccount|user|group|domain|principal|principalSet):", m))])
    error_message = "sync_publisher_members are IAM members with a type prefix, e.g. serviceAccount:crm-sync@acme.iam.gserviceaccount.com."
  }
}

variable "commit_sha" {
  type        = string
  default     = "manual"
  description = "Commit deployed; recorded as a label on every function."
}

variable "cors_origins" {
  type        = list(string)
  default     = []
  description = "Browser origins allowed to call the HTTP functions from another origin; empty = no CORS (the agent desktop is served on the load balancer's own origin and needs none)."
}

variable "pii_backend" {
  type        = string
  default     = "local"
  description = "PII masking: local recognisers, or dlp (Sensitive Data Protection plus local patterns; enables dlp.googleapis.com and grants roles/dlp.user)."
  validation {
    condition     = contains(["local", "dlp"], var.pii_backend)
    error_message = "pii_backend must be local or dlp."
  }
}

variable "router_artefact" {
  type        = string
  default     = ""
  description = "Trained resolver-group router: gs://bucket/prefix (the functions get read access to that bucket) or a path in the deploy bundle; empty = intent mapping."
}

# --- The pseudonymisation key ------------------------------------------------------------------
variable "manage_pseudonym_key" {
  type        = bool
  default     = true
  description = "Create the first version of cx-pseudonym-key in Terraform (write-only: never in state). Set false on a project whose key was added by hand before, or its pseudonyms would change."
}

variable "pseudonym_key_version" {
  type        = number
  default     = 1
  description = "Bump to write a NEW random key (rotation). Every customer_key changes with it: joins across the rotation break."
}

# --- Front door ----------------------------------------------------------------------------------
variable "domain" {
  type        = string
  description = "Host name of the front door, e.g. cx-copilot.acme.com (Google-managed certificate; point an A record at output lb_ip)."
  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.domain))
    error_message = "domain is a lower-case host name without scheme or path, e.g. cx-copilot.acme.com."
  }
}

variable "agent_members" {
  type        = list(string)
  default     = []
  description = "Who may open the agent desktop and call /api/* through IAP, e.g. [\"group:cx-agents@acme.com\"] (roles/iap.httpsResourceAccessor)."
}

variable "privacy_members" {
  type        = list(string)
  default     = []
  description = "The privacy team, e.g. [\"group:privacy-office@acme.com\"]: the only identities IAP admits to /api/privacy_request (GDPR access and erasure). Their grant in config/safety/access.yaml must also carry the role privacy. Empty = nobody can call it (use `cx privacy` with your own credentials)."
  validation {
    condition     = alltrue([for m in var.privacy_members : can(regex("^(user|group|domain|serviceAccount|principal|principalSet):", m))])
    error_message = "privacy_members are IAM members with a type prefix, e.g. group:privacy-office@acme.com."
  }
}

variable "iap_programmatic_clients" {
  type        = list(string)
  default     = []
  description = "OAuth client ids (created once in Google Auth Platform > Clients; only the id is needed) whose ID tokens IAP accepts on /api/*: with the Google-managed OAuth client, programmatic access is blocked until a client is allowlisted. The platform's service account then mints ID tokens with this audience."
}

variable "load_balancing_scheme" {
  type        = string
  default     = "EXTERNAL_MANAGED"
  description = "EXTERNAL_MANAGED (global external Application Load Balancer) or EXTERNAL (classic)."
  validation {
    condition     = contains(["EXTERNAL_MANAGED", "EXTERNAL"], var.load_balancing_scheme)
    error_message = "load_balancing_scheme must be EXTERNAL_MANAGED or EXTERNAL."
  }
}

variable "http_ingress" {
  type        = string
  default     = "ALLOW_INTERNAL_AND_GCLB"
  description = "Ingress of the HTTP functions. Default: only the load balancer (IAP) and internal traffic. ALLOW_ALL only if the platform cannot go through IAP and calls the function URLs with Google ID tokens (run.invoker still required); see docs/deploy.md."
  validation {
    condition     = contains(["ALLOW_INTERNAL_AND_GCLB", "ALLOW_ALL", "ALLOW_INTERNAL_ONLY"], var.http_ingress)
    error_message = "http_ingress must be ALLOW_INTERNAL_AND_GCLB, ALLOW_ALL or ALLOW_INTERNAL_ONLY."
  }
}

variable "desktop_image" {
  type        = string
  default     = "docker.io/library/nginx:1.27-alpine"
  description = "Static web server image that serves the agent desktop from its bucket (mounted read-only); mirror it into Artifact Registry if an organisation policy restricts image sources."
}

# --- Alerts ------------------------------------------------------------------------------------
variable "alert_notification_channels" {
  type        = list(string)
  default     = []
  description = "Existing Monitoring notification channel ids (projects/…/notificationChannels/…) told about every alert."
}

variable "alert_email" {
  type        = string
  default     = ""
  description = "If set, an e-mail notification channel is created for this address and added to every alert."
  validation {
    condition     = var.alert_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an e-mail address or empty."
  }
}

# --- Outbox drain --------------------------------------------------------------------------------
variable "enable_outbox_drain_function" {
  type        = bool
  default     = true
  description = "Deploy the outbox_drain function (needs the entry point in main.py) and un-pause its 5-minute schedule."
}

# --- Warm instances in opening hours (warm.tf) ---------------------------------------------------
variable "min_instances_open" {
  type        = number
  default     = 1
  description = "Warm instances each agent-facing function keeps during opening hours (0: every function scales from zero all day). Cost: docs/performance.md."
  validation {
    condition     = var.min_instances_open >= 0 && var.min_instances_open <= 10 && floor(var.min_instances_open) == var.min_instances_open
    error_message = "min_instances_open is a whole number from 0 to 10."
  }
}

variable "opening_hours_open_cron" {
  type        = string
  default     = "45 7 * * 1-5"
  description = "Cloud Scheduler cron (in opening_hours_time_zone) that raises the agent-facing functions to min_instances_open: shortly before the first agents sign in."
}

variable "opening_hours_close_cron" {
  type        = string
  default     = "0 18 * * 1-5"
  description = "Cloud Scheduler cron (in opening_hours_time_zone) that lets them scale to zero again after closing."
}

variable "opening_hours_time_zone" {
  type        = string
  default     = "Europe/Berlin"
  description = "IANA time zone of the opening-hours crons (Cloud Scheduler follows its daylight-saving changes)."
}

variable "warm_functions" {
  type        = list(string)
  default     = ["context_summary", "reply_draft", "next_best_action", "next_steps", "closing_message"]
  description = "The HTTP functions an agent waits for, which get the warm minimum in opening hours."
  validation {
    condition = alltrue([for f in var.warm_functions : contains(
      ["context_summary", "reply_draft", "next_best_action", "next_steps", "closing_message", "confirm_next_steps", "feedback", "commitment_update", "privacy_request"], f
    )])
    error_message = "warm_functions names HTTP functions of locals.tf."
  }
}
