# One external HTTPS load balancer in front of the public HTTP functions and the web app.
# Its URL map routes by path prefix from the route table (shared/routes/routes.json, read in
# locals.tf), the table the local gateway routes by: a prefix matches itself and everything
# below it, any other /v1 path goes to the default function, and everything else is the web
# app's (web.tf): its files, and its own paths rewritten to /index.html.
locals {
  url_map_routes = { for k, f in local.public_functions : k => f.path_prefixes }
  # One route rule per prefix, in a stable order (route rules need distinct priorities).
  url_map_rules = flatten([
    for k in sort(keys(local.url_map_routes)) : [
      for p in sort(local.url_map_routes[k]) : { prefix = p, function = k }
    ]
  ])

  # URL map tests, checked by the API when the map is written: each prefix and a path
  # below it reach their function; an unknown path reaches the default.
  url_map_tests = concat(
    flatten([
      for k, prefixes in local.url_map_routes : [
        for p in prefixes : [
          { path = p, function = k },
          { path = "${p}/x", function = k },
        ]
      ]
    ]),
    [{ path = "/v1/no-such-route", function = local.default_http_function }],
  )
  # The web app: its files, its routes and "/" reach the bucket.
  url_map_web_tests = concat(["/", "/index.html", "/config.json", "/assets/index-0a1b2c3d.js"], [for r in local.web_routes : replace(r, "/\\{[A-Za-z]+\\}/", "abc123")])
}

resource "google_compute_global_address" "api" {
  project = var.project_id
  name    = "medi-api"

  depends_on = [google_project_service.this]
}

resource "google_compute_managed_ssl_certificate" "api" {
  project = var.project_id
  name    = "medi-api-${substr(sha256(var.api_domain), 0, 8)}"

  managed {
    domains = [var.api_domain]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_region_network_endpoint_group" "function" {
  for_each = local.public_functions

  project               = var.project_id
  region                = var.region
  name                  = "neg-${each.key}"
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = each.value.name
  }
}

resource "google_compute_backend_service" "function" {
  for_each = local.public_functions

  project               = var.project_id
  name                  = "be-${each.key}"
  description           = "Function ${each.key}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = google_compute_security_policy.api.id

  backend {
    group = google_compute_region_network_endpoint_group.function[each.key].id
  }

  log_config {
    enable      = true
    sample_rate = 1.0
  }
}

resource "google_compute_url_map" "api" {
  project         = var.project_id
  name            = "medi-api"
  default_service = google_compute_backend_service.function[local.default_http_function].id

  host_rule {
    hosts        = [var.api_domain]
    path_matcher = "api"
  }

  path_matcher {
    name = "api"
    # What no rule claims is a file of the web app (assets, config.json, favicon).
    default_service = google_compute_backend_bucket.web.id

    dynamic "route_rules" {
      for_each = local.url_map_rules
      content {
        priority = route_rules.key + 1
        service  = google_compute_backend_service.function[route_rules.value.function].id
        match_rules {
          full_path_match = route_rules.value.prefix
        }
        match_rules {
          prefix_match = "${route_rules.value.prefix}/"
        }
      }
    }

    # Any other API path: the default function answers (404 in the API's envelope).
    route_rules {
      priority = length(local.url_map_rules) + 1
      service  = google_compute_backend_service.function[local.default_http_function].id
      match_rules {
        full_path_match = "/v1"
      }
      match_rules {
        prefix_match = "/v1/"
      }
    }

    # "/" and the app's own paths: index.html (the app routes in the browser).
    route_rules {
      priority = length(local.url_map_rules) + 2
      service  = google_compute_backend_bucket.web.id
      match_rules {
        full_path_match = "/"
      }
      route_action {
        url_rewrite {
          path_prefix_rewrite = "/index.html"
        }
      }
    }

    dynamic "route_rules" {
      for_each = local.web_routes
      content {
        priority = length(local.url_map_rules) + 3 + route_rules.key
        service  = google_compute_backend_bucket.web.id
        match_rules {
          path_template_match = route_rules.value
        }
        route_action {
          url_rewrite {
            path_template_rewrite = "/index.html"
          }
        }
      }
    }
  }

  dynamic "test" {
    for_each = local.url_map_tests
    content {
      host    = var.api_domain
      path    = test.value.path
      service = google_compute_backend_service.function[test.value.function].id
    }
  }

  dynamic "test" {
    for_each = local.url_map_web_tests
    content {
      host    = var.api_domain
      path    = test.value
      service = google_compute_backend_bucket.web.id
    }
  }
}

resource "google_compute_ssl_policy" "api" {
  project         = var.project_id
  name            = "medi-api-tls12"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "api" {
  project          = var.project_id
  name             = "medi-api"
  url_map          = google_compute_url_map.api.id
  ssl_certificates = [google_compute_managed_ssl_certificate.api.id]
  ssl_policy       = google_compute_ssl_policy.api.id
}

resource "google_compute_global_forwarding_rule" "https" {
  project               = var.project_id
  name                  = "medi-api-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  port_range            = "443"
  ip_address            = google_compute_global_address.api.id
  target                = google_compute_target_https_proxy.api.id
}

# Plain HTTP only redirects to HTTPS.
resource "google_compute_url_map" "redirect" {
  project = var.project_id
  name    = "medi-api-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  project = var.project_id
  name    = "medi-api-redirect"
  url_map = google_compute_url_map.redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  project               = var.project_id
  name                  = "medi-api-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  port_range            = "80"
  ip_address            = google_compute_global_address.api.id
  target                = google_compute_target_http_proxy.redirect.id
}
