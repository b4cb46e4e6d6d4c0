# retention: nightly (Cloud Scheduler with its own invoker account and an OIDC token for
# the function's URL, both checked by the code) deletes raw uploads and transcripts whose
# note was approved longer ago than the clinic's retention period; the uploads bucket's
# lifecycle rule (upload_retention_days) is the backstop.
module "retention" {
  source = "./modules/function"

  name            = "retention"
  description     = "Enforces retention of uploads and transcripts"
  deployment      = local.function_deployment
  trigger         = "scheduler"
  timeout_seconds = 540
  max_instances   = 1
  concurrency     = 1
  labels          = local.labels

  schedule = {
    cron      = var.retention_schedule
    time_zone = var.time_zone
    path      = "/"
  }

  environment = merge(local.common_env, {
    MEDI_SCHEDULER_INVOKER_SA   = module.retention.invoker_service_account_email
    MEDI_FUNCTION_URL_RETENTION = local.function_url["retention"]
    MEDI_SCRIBE_RETENTION_DAYS  = tostring(var.scribe_retention_days)
  })

  project_roles = ["roles/datastore.user"]

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket_iam_member" "retention_uploads_user" {
  bucket = google_storage_bucket.bucket["uploads"].name
  role   = "roles/storage.objectUser"
  member = module.retention.service_account_member
}
