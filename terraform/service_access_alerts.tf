# access-alerts: consumes access-events (push subscription with a dead-letter topic,
# pubsub.tf). For each break-glass grant it queues one alert mail per active admin of the
# patient's clinic on the mail queue (no patient data and no stated reason in the mail)
# and logs break_glass_alerted (metric break_glass_alerts, monitoring.tf). Events are
# deduped on their id and mail tasks are named by event and admin.
module "access_alerts" {
  source = "./modules/function"

  name          = "access-alerts"
  description   = "Mails admins about break-glass access"
  deployment    = local.function_deployment
  trigger       = "pubsub"
  max_instances = 3
  labels        = local.labels

  environment = merge(local.common_env, local.tasks_env, {
    MEDI_FUNCTION_URL_MAILER = local.function_url["mailer"]
  })

  # Staff profiles, clinics and dedupe marks.
  project_roles = ["roles/datastore.user"]

  depends_on = [google_project_service.this]
}

# Pub/Sub signs the push OIDC token as the invoker account (needed for projects created
# before April 2021; harmless after).
resource "google_service_account_iam_member" "access_alerts_pubsub_token_creator" {
  service_account_id = module.access_alerts.invoker_service_account_id
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${local.pubsub_service_agent}"
}

# Alert mails go to the mailer through the mail queue.
resource "google_cloud_tasks_queue_iam_member" "access_alerts_enqueue_mail" {
  project  = var.project_id
  location = google_cloud_tasks_queue.queue["mail"].location
  name     = google_cloud_tasks_queue.queue["mail"].name
  role     = "roles/cloudtasks.enqueuer"
  member   = module.access_alerts.service_account_member
}

resource "google_service_account_iam_member" "access_alerts_act_as_tasks_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = module.access_alerts.service_account_member
}
