terraform {
  # 1.11: write-only arguments (secret_data_wo) fed from an ephemeral resource, so the
  # pseudonymisation key is created by the first apply without entering plan or state.
  required_version = ">= 1.11"
  required_providers {
    # The pins match infra/schema/providers.json, which scripts/tf_schema.py checks every
    # attribute against (regenerate it when a pin moves: see the script's docstring).
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
    # Only for google_project_service_identity (IAP service agent), which is beta-only.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.50"
    }
    # ephemeral "random_password" exists from 3.7.0.
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
    # time_sleep: lets new IAM grants propagate before the first function build uses them.
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13"
    }
  }
  # State in a bucket the platform team owns:
  #   terraform init -backend-config="bucket=<state-bucket>" -backend-config="prefix=cx-copilot/<env>"
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}
