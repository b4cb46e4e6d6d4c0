# scribe-worker: one task of queue "scribe" per upload: transcript (Speech-to-Text for
# audio) -> SOAP draft with evidence (Gemini on Vertex AI) -> note v1 -> note.drafted.
module "scribe_worker" {
  source = "./modules/function"

  name                          = "scribe-worker"
  description                   = "Transcribes uploads and drafts SOAP notes"
  deployment                    = local.function_deployment
  trigger                       = "tasks"
  invoker_service_account_email = google_service_account.tasks_invoker.email
  memory                        = "1Gi"
  timeout_seconds               = 540
  concurrency                   = 4
  max_instances                 = 10
  labels                        = local.labels

  environment = merge(local.common_env, local.gemini_env, {
    MEDI_TASKS_INVOKER_SA           = google_service_account.tasks_invoker.email
    MEDI_FUNCTION_URL_SCRIBE_WORKER = local.function_url["scribe-worker"]
    MEDI_TOPIC_NOTE_EVENTS          = module.topic_note_events.name
    MEDI_SCRIBE_DRAFTER             = var.scribe_drafter
    MEDI_VERTEX_LOCATION            = var.region
    MEDI_SPEECH_MODEL               = var.speech_model
    MEDI_SPEECH_LOCATION            = var.speech_location
    MEDI_SPEECH_LANGUAGE            = var.speech_language
    MEDI_LLM_MONTHLY_BUDGET_USD     = tostring(var.llm_monthly_budget_usd)
  })

  project_roles = [
    "roles/datastore.user",
    "roles/aiplatform.user",
    "roles/speech.client",
  ]

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket_iam_member" "scribe_worker_uploads_reader" {
  bucket = google_storage_bucket.bucket["uploads"].name
  role   = "roles/storage.objectViewer"
  member = module.scribe_worker.service_account_member
}

resource "google_pubsub_topic_iam_member" "scribe_worker_publish_note_events" {
  project = var.project_id
  topic   = module.topic_note_events.name
  role    = "roles/pubsub.publisher"
  member  = module.scribe_worker.service_account_member
}
