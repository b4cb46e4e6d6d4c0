# mailer: one task of queue "mail" per message (invitation, password reset, verification):
# builds the Identity Platform action link and sends through the SMTP relay, whose
# password is a secret:// reference to a pinned version.
module "mailer" {
  source = "./modules/function"

  name                          = "mailer"
  description                   = "Sends staff mail"
  deployment                    = local.function_deployment
  trigger                       = "tasks"
  invoker_service_account_email = google_service_account.tasks_invoker.email
  max_instances                 = 3
  labels                        = local.labels

  environment = merge(local.common_env, {
    MEDI_TASKS_INVOKER_SA    = google_service_account.tasks_invoker.email
    MEDI_FUNCTION_URL_MAILER = local.function_url["mailer"]
    MEDI_SMTP_HOST           = var.smtp_host
    MEDI_SMTP_PORT           = tostring(var.smtp_port)
    MEDI_SMTP_USERNAME       = var.smtp_username
    MEDI_MAIL_FROM           = var.mail_from
  })

  secrets = {
    MEDI_SMTP_PASSWORD = {
      secret_id = google_secret_manager_secret.secret["smtp-password"].id
      version   = var.smtp_password_version
    }
  }

  project_roles = [
    "roles/datastore.user",
    # Password-reset and verification links (Admin SDK email action links).
    "roles/firebaseauth.admin",
  ]

  depends_on = [google_project_service.this]
}
