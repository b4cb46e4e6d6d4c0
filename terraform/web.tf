# The staff web app (web/): static files in a Cloud Storage bucket served through a
# backend bucket with Cloud CDN, behind the same HTTPS load balancer as the API, so the
# app and /v1/... share one origin (session cookie, no CORS). scripts/deploy builds web/dist
# (scripts/web build) before planning; Terraform uploads it:
#   assets/*     content-hashed names: Cache-Control public, max-age=31536000, immutable
#   index.html   and config.json (the app's runtime configuration): no-cache
# The load balancer adds the security headers of web/security-headers.json (a strict
# Content-Security-Policy: scripts and styles from the app's origin only) to every answer,
# and rewrites the app's own paths (web/routes.json) to /index.html.
locals {
  web_dist = "${path.module}/../web/dist"
  # The CSP's {connect}: Firebase Authentication (Identity Platform) and the signed
  # uploads to Cloud Storage.
  web_connect = ["https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com", "https://storage.googleapis.com"]
  web_security_headers = {
    for k, v in jsondecode(file("${path.module}/../web/security-headers.json")) :
    k => trimspace(replace(v, "{connect}", join(" ", local.web_connect))) if !startswith(k, "/")
  }
  # "/triage/:encounterId" -> "/triage/{encounterId}" (URL map path templates).
  web_routes = [for r in jsondecode(file("${path.module}/../web/routes.json")).routes : replace(r, "/:([A-Za-z]+)/", "{$1}")]

  web_content_types = {
    html  = "text/html; charset=utf-8", js = "text/javascript; charset=utf-8", css = "text/css; charset=utf-8",
    svg   = "image/svg+xml", png = "image/png", json = "application/json", txt = "text/plain; charset=utf-8",
    woff2 = "font/woff2", ico = "image/x-icon", webmanifest = "application/manifest+json",
  }
  web_files = fileexists("${local.web_dist}/index.html") ? [
    for f in fileset(local.web_dist, "**") : f if !startswith(basename(f), ".") && f != "config.json"
  ] : []
  web_immutable = "public, max-age=31536000, immutable"
  web_origin    = "https://${var.api_domain}"

  # config.json: what the same build needs to run in this environment.
  web_config = {
    environment = var.environment
    firebase = {
      apiKey     = google_apikeys_key.web.key_string
      authDomain = var.api_domain
      projectId  = var.auth_project_id == "" ? var.project_id : var.auth_project_id
    }
  }
}

resource "google_storage_bucket" "web" {
  project                     = var.project_id
  name                        = "${var.project_id}-web"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  force_destroy               = false
  labels                      = merge(local.labels, { bucket = "web" })

  # Terraform manages exactly the files of the build being deployed: a release removes
  # the previous one's hashed assets from the live bucket (Cloud CDN may still answer
  # them from its cache). A browser still running the previous release that then opens a
  # screen whose file is gone is told a new version is available and to reload (the app's
  # screen boundary). Removed files stay as non-current versions for 30 days.
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

# A backend bucket reads objects anonymously: the app's files (no patient data, nothing
# secret: config.json holds a browser API key restricted to this origin) are public.
#tfsec:ignore:google-storage-no-public-access
resource "google_storage_bucket_iam_member" "web_public_read" {
  bucket = google_storage_bucket.web.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_storage_bucket_object" "web" {
  for_each = toset(local.web_files)

  bucket         = google_storage_bucket.web.name
  name           = each.value
  source         = "${local.web_dist}/${each.value}"
  source_md5hash = filemd5("${local.web_dist}/${each.value}")
  content_type   = lookup(local.web_content_types, reverse(split(".", each.value))[0], "application/octet-stream")
  cache_control  = startswith(each.value, "assets/") ? local.web_immutable : (each.value == "index.html" ? "no-cache" : "public, max-age=3600")
}

resource "google_storage_bucket_object" "web_config" {
  bucket        = google_storage_bucket.web.name
  name          = "config.json"
  content       = jsonencode(local.web_config)
  content_type  = "application/json"
  cache_control = "no-cache"
}

# The browser key of Firebase Authentication: usable only from the app's origin, only for
# the Identity Platform APIs.
resource "google_apikeys_key" "web" {
  project      = var.project_id
  name         = "medi-web"
  display_name = "Medi OS web app (Identity Platform sign-in)"

  restrictions {
    browser_key_restrictions {
      allowed_referrers = ["${local.web_origin}/*"]
    }
    api_targets {
      service = "identitytoolkit.googleapis.com"
    }
    api_targets {
      service = "securetoken.googleapis.com"
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_compute_backend_bucket" "web" {
  project     = var.project_id
  name        = "be-web"
  description = "The staff web app"
  bucket_name = google_storage_bucket.web.name
  enable_cdn  = true

  cdn_policy {
    # Objects say how long they may be cached (immutable assets, revalidated index.html).
    cache_mode        = "USE_ORIGIN_HEADERS"
    negative_caching  = false
    serve_while_stale = 0
  }

  custom_response_headers = [for k in sort(keys(local.web_security_headers)) : "${k}: ${local.web_security_headers[k]}"]
}
