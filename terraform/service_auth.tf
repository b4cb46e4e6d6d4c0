# auth: the signed-in user (/v1/me), staff management and invitations, sign-in sessions,
# break-glass access and the audit trail. Admin of the Identity Platform users (custom
# claims, disabling, revocation); sends mail through the mail queue; publishes
# break-glass events.
module "auth" {
  source = "./modules/function"

  name          = "auth"
  description   = "Staff, sessions, access and audit trail"
  deployment    = local.function_deployment
  trigger       = "http"
  path_prefixes = local.routes["auth"]

  min_instances = var.http_min_instances
  max_instances = var.http_max_instances
  labels        = local.labels

  environment = merge(local.common_env, local.http_env, local.tasks_env, {
    MEDI_FUNCTION_URL_MAILER = local.function_url["mailer"]
    MEDI_ACCESS_EVENTS_TOPIC = module.topic_access_events.name
    MEDI_AUDIT_ANCHOR_BUCKET = google_storage_bucket.audit_anchors.name # read by GET /v1/audit/verify
  })

  project_roles = [
    "roles/datastore.user",
    # Creates staff accounts, sets role/clinic claims, revokes sessions.
    "roles/firebaseauth.admin",
  ]

  depends_on = [google_project_service.this]
}

# Invitations and password resets go to the mailer through the mail queue.
resource "google_cloud_tasks_queue_iam_member" "auth_enqueue_mail" {
  project  = var.project_id
  location = google_cloud_tasks_queue.queue["mail"].location
  name     = google_cloud_tasks_queue.queue["mail"].name
  role     = "roles/cloudtasks.enqueuer"
  member   = module.auth.service_account_member
}

resource "google_service_account_iam_member" "auth_act_as_tasks_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = module.auth.service_account_member
}

# Break-glass grants and revocations.
resource "google_pubsub_topic_iam_member" "auth_publish_access_events" {
  project = var.project_id
  topic   = module.topic_access_events.name
  role    = "roles/pubsub.publisher"
  member  = module.auth.service_account_member
}
