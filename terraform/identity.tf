# Identity Platform issues the staff ID tokens every request carries. Staff accounts are
# created by admins (the auth function), never by self sign-up; e-mail and password sign-in
# with TOTP second factors available to every user (and required by policy for admins,
# enforced in the app).
resource "google_identity_platform_config" "default" {
  project                    = var.auth_project_id == "" ? var.project_id : var.auth_project_id
  authorized_domains         = var.auth_authorized_domains
  autodelete_anonymous_users = true

  sign_in {
    allow_duplicate_emails = false
    email {
      enabled           = true
      password_required = true
    }
  }

  mfa {
    state = "ENABLED"
    provider_configs {
      state = "ENABLED"
      totp_provider_config {
        adjacent_intervals = 1
      }
    }
  }

  client {
    permissions {
      disabled_user_signup   = true
      disabled_user_deletion = true
    }
  }

  monitoring {
    request_logging {
      enabled = true
    }
  }

  depends_on = [google_project_service.this]
}
