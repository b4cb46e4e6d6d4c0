# Secrets exist here without values: values are added out of band
# (docs/deployment.md, "Secrets") and never appear in the repository or the state.
# Functions get them as secret:// references to a pinned version (shared/config), granted
# per secret in their service_<name>.tf.
locals {
  secrets = {
    "smtp-password" = "Password of the SMTP relay account the mailer sends with."
  }
}

resource "google_secret_manager_secret" "secret" {
  for_each = local.secrets

  project   = var.project_id
  secret_id = each.key
  labels    = local.labels
  annotations = {
    purpose = each.value
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}
