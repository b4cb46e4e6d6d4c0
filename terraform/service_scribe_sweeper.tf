# scribe-sweeper: every minute Cloud Scheduler (with the function's own invoker account and
# an OIDC token for the function's URL, both checked by the code) asks it to end scribe
# sessions that stopped moving (shared/scribe Sweeper): a session in uploaded,
# transcribing or drafting unchanged for scribe_stale_after gets its scribe job enqueued
# again (a task name of its own), and one uploaded scribe_give_up_after ago without a
# draft fails with processing_timed_out. Every accepted upload therefore ends drafted or
# failed within scribe_give_up_after plus a minute (docs/reliability.md). A session still
# awaiting its upload scribe_abandon_after after it was made (its upload link long expired)
# fails with upload_not_received, so no session waits for ever. Runs are idempotent and may
# overlap: each session is decided in a transaction.
module "scribe_sweeper" {
  source = "./modules/function"

  name            = "scribe-sweeper"
  description     = "Re-enqueues or fails scribe sessions that stopped moving"
  deployment      = local.function_deployment
  trigger         = "scheduler"
  timeout_seconds = 120
  max_instances   = 1
  concurrency     = 1
  labels          = local.labels

  schedule = {
    cron      = "* * * * *"
    time_zone = "Etc/UTC"
    path      = "/"
  }

  environment = merge(local.common_env, local.tasks_env, {
    MEDI_SCHEDULER_INVOKER_SA        = module.scribe_sweeper.invoker_service_account_email
    MEDI_FUNCTION_URL_SCRIBE_SWEEPER = local.function_url["scribe-sweeper"]
    MEDI_FUNCTION_URL_SCRIBE_WORKER  = local.function_url["scribe-worker"]
    MEDI_SCRIBE_STALE_AFTER          = var.scribe_stale_after
    MEDI_SCRIBE_GIVE_UP_AFTER        = var.scribe_give_up_after
    MEDI_SCRIBE_ABANDON_AFTER        = var.scribe_abandon_after
  })

  # Reads and updates scribe sessions; Firestore has no narrower role.
  project_roles = ["roles/datastore.user"]

  depends_on = [google_project_service.this]
}

resource "google_cloud_tasks_queue_iam_member" "scribe_sweeper_enqueue_scribe" {
  project  = var.project_id
  location = google_cloud_tasks_queue.queue["scribe"].location
  name     = google_cloud_tasks_queue.queue["scribe"].name
  role     = "roles/cloudtasks.enqueuer"
  member   = module.scribe_sweeper.service_account_member
}

resource "google_service_account_iam_member" "scribe_sweeper_act_as_tasks_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = module.scribe_sweeper.service_account_member
}
