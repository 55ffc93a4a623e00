# --- The front door: one HTTPS load balancer, everything behind IAP ---------------------------
#   https://<domain>/                  the agent desktop (Cloud Run serving web/agent-desktop)
#   https://<domain>/api/<function>    each HTTP function (the page calls api/<name> relative)
# Each path has its own backend service with IAP on, reached through a serverless NEG. IAP
# uses the Google-managed OAuth client (iap { enabled = true } without a client): the IAP
# OAuth Admin API (brands/clients) is shut down in 2026, and with it google_iap_brand/client.
# The functions' ingress stays "internal and load balancer", so the run.app URLs are closed
# to the internet; IAP's service agent is their only invoker on this path.

resource "google_compute_global_address" "lb" {
  name       = "cx-copilot-lb"
  depends_on = [google_project_service.apis]
}

resource "google_compute_managed_ssl_certificate" "lb" {
  name = "cx-copilot-${substr(sha256(var.domain), 0, 12)}"
  managed {
    domains = [var.domain]
  }
  lifecycle {
    create_before_destroy = true
  }
  depends_on = [google_project_service.apis]
}

resource "google_compute_ssl_policy" "lb" {
  name            = "cx-copilot-tls12"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
  depends_on      = [google_project_service.apis]
}

# Serverless NEGs: Cloud Run functions (2nd gen) are Cloud Run services of the same name, so
# they are addressed with cloud_run { service } (cloud_function { } is for 1st gen). The name
# comes from the map, not from the function resource: no dependency cycle with the functions'
# CX_IAP_AUDIENCE, which needs the backend services' ids.
resource "google_compute_region_network_endpoint_group" "fn" {
  for_each              = local.http_functions
  name                  = "cx-${replace(each.key, "_", "-")}"
  region                = var.region
  network_endpoint_type = "SERVERLESS"
  cloud_run {
    service = replace(each.key, "_", "-")
  }
  depends_on = [google_project_service.apis]
}

resource "google_compute_backend_service" "api" {
  for_each              = local.http_functions
  name                  = "cx-api-${replace(each.key, "_", "-")}"
  load_balancing_scheme = var.load_balancing_scheme
  backend {
    group = google_compute_region_network_endpoint_group.fn[each.key].id
  }
  iap {
    enabled = true
  }
  log_config {
    enable      = true
    sample_rate = 1
  }
}

resource "google_compute_region_network_endpoint_group" "desktop" {
  name                  = "cx-agent-desktop"
  region                = var.region
  network_endpoint_type = "SERVERLESS"
  cloud_run {
    service = google_cloud_run_v2_service.desktop.name
  }
}

resource "google_compute_backend_service" "desktop" {
  name                  = "cx-agent-desktop"
  load_balancing_scheme = var.load_balancing_scheme
  backend {
    group = google_compute_region_network_endpoint_group.desktop.id
  }
  iap {
    enabled = true
  }
  log_config {
    enable      = true
    sample_rate = 1
  }
}

resource "google_compute_url_map" "lb" {
  name            = "cx-copilot"
  default_service = google_compute_backend_service.desktop.id
  host_rule {
    hosts        = [var.domain]
    path_matcher = "cx"
  }
  path_matcher {
    name            = "cx"
    default_service = google_compute_backend_service.desktop.id
    dynamic "path_rule" {
      for_each = local.http_functions
      content {
        paths   = ["/api/${path_rule.key}", "/api/${path_rule.key}/*"]
        service = google_compute_backend_service.api[path_rule.key].id
      }
    }
  }
}

resource "google_compute_target_https_proxy" "lb" {
  name             = "cx-copilot-https"
  url_map          = google_compute_url_map.lb.id
  ssl_certificates = [google_compute_managed_ssl_certificate.lb.id]
  ssl_policy       = google_compute_ssl_policy.lb.id
}

resource "google_compute_global_forwarding_rule" "https" {
  name                  = "cx-copilot-https"
  target                = google_compute_target_https_proxy.lb.id
  ip_address            = google_compute_global_address.lb.address
  port_range            = "443"
  load_balancing_scheme = var.load_balancing_scheme
}

# Plain HTTP only redirects to HTTPS.
resource "google_compute_url_map" "http_redirect" {
  name = "cx-copilot-http-redirect"
  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
  depends_on = [google_project_service.apis]
}

resource "google_compute_target_http_proxy" "http_redirect" {
  name    = "cx-copilot-http-redirect"
  url_map = google_compute_url_map.http_redirect.id
}

resource "google_compute_global_forwarding_rule" "http_redirect" {
  name                  = "cx-copilot-http-redirect"
  target                = google_compute_target_http_proxy.http_redirect.id
  ip_address            = google_compute_global_address.lb.address
  port_range            = "80"
  load_balancing_scheme = var.load_balancing_scheme
}

# --- Who gets through IAP ----------------------------------------------------------------------
# Agents (groups): the desktop and every agent-facing API. The platform's identities: those APIs
# only, with a service-account token (docs/deploy.md: "Server-to-server"). privacy_request: the
# privacy team only (iam.tf).
resource "google_iap_web_backend_service_iam_member" "api" {
  for_each = {
    for pair in setproduct(local.agent_functions, distinct(concat(var.agent_members, var.invoker_members))) :
    "${pair[0]}|${pair[1]}" => { function = pair[0], member = pair[1] }
  }
  project             = var.project_id
  web_backend_service = google_compute_backend_service.api[each.value.function].name
  role                = "roles/iap.httpsResourceAccessor"
  member              = each.value.member
}

resource "google_iap_web_backend_service_iam_member" "desktop" {
  for_each            = toset(var.agent_members)
  project             = var.project_id
  web_backend_service = google_compute_backend_service.desktop.name
  role                = "roles/iap.httpsResourceAccessor"
  member              = each.value
}

# Programmatic access (the platform's service account): with the Google-managed OAuth client
# IAP blocks it until an OAuth client is allowlisted; callers then present a Google-issued ID
# token whose audience is that client id. Nothing secret: only the client id is configured.
resource "google_iap_settings" "api" {
  for_each = { for k, v in local.http_functions : k => v if length(var.iap_programmatic_clients) > 0 }
  name     = "projects/${data.google_project.this.number}/iap_web/compute/services/${google_compute_backend_service.api[each.key].name}"
  access_settings {
    oauth_settings {
      programmatic_clients = var.iap_programmatic_clients
    }
  }
}

# IAP calls the backends as its service agent (X-Serverless-Authorization): invoker on each.
resource "google_cloud_run_v2_service_iam_member" "iap_invoker" {
  for_each = local.http_functions
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.invoker"
  member   = google_project_service_identity.iap.member
}

resource "google_cloud_run_v2_service_iam_member" "iap_invoker_desktop" {
  location = var.region
  name     = google_cloud_run_v2_service.desktop.name
  role     = "roles/run.invoker"
  member   = google_project_service_identity.iap.member
}

locals {
  # The `aud` of the x-goog-iap-jwt-assertion each backend receives; the functions verify it.
  iap_audiences = {
    for k, v in local.http_functions :
    k => "/projects/${data.google_project.this.number}/global/backendServices/${google_compute_backend_service.api[k].generated_id}"
  }
  iap_audience_desktop = "/projects/${data.google_project.this.number}/global/backendServices/${google_compute_backend_service.desktop.generated_id}"
}

check "iap_has_members" {
  assert {
    condition     = length(var.agent_members) > 0
    error_message = "agent_members is empty: nobody can open the agent desktop or call /api/* through IAP. Set e.g. agent_members = [\"group:cx-agents@acme.com\"]."
  }
}
