# summarize-note-events: consumes note-events (note.approved; push subscription with a
# dead-letter topic, pubsub.tf), marks the patient's summary stale and enqueues its
# regeneration on the summaries queue.
module "summarize_note_events" {
  source = "./modules/function"

  name          = "summarize-note-events"
  description   = "Invalidates summaries on note-events"
  deployment    = local.function_deployment
  trigger       = "pubsub"
  max_instances = 10
  labels        = local.labels

  environment = merge(local.common_env, local.tasks_env, {
    MEDI_FUNCTION_URL_SUMMARIZE_WORKER = local.function_url["summarize-worker"]
  })

  project_roles = ["roles/datastore.user"]

  depends_on = [google_project_service.this]
}

# Pub/Sub signs the push OIDC token as the invoker account (needed for projects created
# before April 2021; harmless after).
resource "google_service_account_iam_member" "summarize_note_events_pubsub_token_creator" {
  service_account_id = module.summarize_note_events.invoker_service_account_id
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${local.pubsub_service_agent}"
}

resource "google_cloud_tasks_queue_iam_member" "summarize_note_events_enqueue_summaries" {
  project  = var.project_id
  location = google_cloud_tasks_queue.queue["summaries"].location
  name     = google_cloud_tasks_queue.queue["summaries"].name
  role     = "roles/cloudtasks.enqueuer"
  member   = module.summarize_note_events.service_account_member
}

resource "google_service_account_iam_member" "summarize_note_events_act_as_tasks_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = module.summarize_note_events.service_account_member
}
