# scribe-ingest: an object finalized in the uploads bucket (Eventarc) is validated,
# recorded on its scribe session and handed to the scribe worker as a task.
module "scribe_ingest" {
  source = "./modules/function"

  name                   = "scribe-ingest"
  description            = "Validates uploads and enqueues transcription"
  deployment             = local.function_deployment
  trigger                = "storage"
  storage_trigger_bucket = google_storage_bucket.bucket["uploads"].name

  max_instances = 10
  labels        = local.labels

  environment = merge(local.common_env, local.tasks_env, {
    MEDI_UPLOADS_BUCKET             = google_storage_bucket.bucket["uploads"].name
    MEDI_FUNCTION_URL_SCRIBE_WORKER = local.function_url["scribe-worker"]
  })

  project_roles = ["roles/datastore.user"]

  depends_on = [google_project_service.this, google_project_iam_member.gcs_agent_pubsub_publisher]
}

resource "google_storage_bucket_iam_member" "scribe_ingest_uploads_reader" {
  bucket = google_storage_bucket.bucket["uploads"].name
  role   = "roles/storage.objectViewer"
  member = module.scribe_ingest.service_account_member
}

resource "google_cloud_tasks_queue_iam_member" "scribe_ingest_enqueue_scribe" {
  project  = var.project_id
  location = google_cloud_tasks_queue.queue["scribe"].location
  name     = google_cloud_tasks_queue.queue["scribe"].name
  role     = "roles/cloudtasks.enqueuer"
  member   = module.scribe_ingest.service_account_member
}

resource "google_service_account_iam_member" "scribe_ingest_act_as_tasks_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = module.scribe_ingest.service_account_member
}
