# Cloud Armor in front of every public function: OWASP preconfigured WAF rules, rate limits
# on the public authentication endpoints, adaptive DDoS protection. Log level NORMAL: VERBOSE
# would copy matched request fragments (which may hold patient data) into the logs.
locals {
  waf_rules = {
    1000 = "sqli-v33-stable"
    1001 = "xss-v33-stable"
    1002 = "lfi-v33-stable"
    1003 = "rfi-v33-stable"
    1004 = "rce-v33-stable"
    1005 = "methodenforcement-v33-stable"
    1006 = "scannerdetection-v33-stable"
    1007 = "protocolattack-v33-stable"
    1008 = "sessionfixation-v33-stable"
  }
}

resource "google_compute_security_policy" "api" {
  project     = var.project_id
  name        = "medi-api"
  description = "WAF and rate limits for the Medi OS API"
  type        = "CLOUD_ARMOR"

  adaptive_protection_config {
    layer_7_ddos_defense_config {
      enable = true
    }
  }

  advanced_options_config {
    json_parsing = "STANDARD"
    log_level    = "NORMAL"
  }

  # Development-only routes never answer outside dev.
  dynamic "rule" {
    for_each = var.environment == "dev" ? [] : [1]
    content {
      priority    = 50
      action      = "deny(404)"
      description = "no /v1/dev routes outside dev"
      match {
        expr {
          expression = "request.path == '/v1/dev' || request.path.startsWith('/v1/dev/')"
        }
      }
    }
  }

  rule {
    priority    = 100
    action      = "throttle"
    description = "rate limit /v1/auth/* per client IP"
    match {
      expr {
        expression = "request.path == '/v1/auth' || request.path.startsWith('/v1/auth/')"
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.auth_rate_limit
        interval_sec = 60
      }
    }
  }

  rule {
    priority    = 110
    action      = "rate_based_ban"
    description = "rate limit sign-in (/v1/sessions) per client IP, ban repeat offenders"
    match {
      expr {
        expression = "request.path == '/v1/sessions' || request.path.startsWith('/v1/sessions/')"
      }
    }
    rate_limit_options {
      conform_action   = "allow"
      exceed_action    = "deny(429)"
      enforce_on_key   = "IP"
      ban_duration_sec = 600
      rate_limit_threshold {
        count        = var.sessions_rate_limit
        interval_sec = 60
      }
      ban_threshold {
        count        = var.sessions_rate_limit * 5
        interval_sec = 600
      }
    }
  }

  dynamic "rule" {
    for_each = local.waf_rules
    content {
      priority    = rule.key
      action      = "deny(403)"
      preview     = var.waf_preview
      description = "preconfigured WAF ${rule.value}"
      match {
        expr {
          expression = "evaluatePreconfiguredWaf('${rule.value}', {'sensitivity': 1})"
        }
      }
    }
  }

  rule {
    priority    = 2147483647
    action      = "allow"
    description = "default: allow"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}
