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

variable "gemini_model" {
  type        = string
  default     = ""
  description = "Emergency override of every capability's model; empty = config/models.yaml (per capability)."
}

variable "gemini_location" {
  type        = string
  default     = "global"
  description = "Vertex location for Gemini calls (global, a multi-region such as eu, or a region), independent of var.region."
}

variable "invoker_members" {
  type        = list(string)
  default     = []
  description = "Who may call the HTTP functions, e.g. [\"serviceAccount:platform@acme.iam.gserviceaccount.com\"]."
}

variable "commit_sha" {
  type        = string
  default     = "manual"
  description = "Commit deployed; recorded as a label on every function."
}

variable "cors_origins" {
  type        = list(string)
  default     = []
  description = "Browser origins allowed to call the HTTP functions (the agent desktop's static site); empty = no CORS."
}

variable "pii_backend" {
  type        = string
  default     = "local"
  description = "PII masking: local recognisers, or dlp (Sensitive Data Protection plus local patterns)."
  validation {
    condition     = contains(["local", "dlp"], var.pii_backend)
    error_message = "pii_backend must be local or dlp."
  }
}

variable "router_artefact" {
  type        = string
  default     = ""
  description = "Trained resolver-group router (gs://bucket/prefix or a path in the deploy bundle); empty = intent mapping."
}
