# scribe: upload sessions (signed PUT URLs to the uploads bucket), note drafts, edits and
# approval; publishes note events.
module "scribe" {
  source = "./modules/function"

  name          = "scribe"
  description   = "Scribe sessions and clinical notes"
  deployment    = local.function_deployment
  trigger       = "http"
  path_prefixes = local.routes["scribe"]

  min_instances = var.http_min_instances
  max_instances = var.http_max_instances
  labels        = local.labels

  environment = merge(local.common_env, local.http_env, {
    MEDI_UPLOADS_BUCKET    = google_storage_bucket.bucket["uploads"].name
    MEDI_TOPIC_NOTE_EVENTS = module.topic_note_events.name
  })

  project_roles = [
    "roles/datastore.user",
    "roles/firebaseauth.viewer", # revocation check of ID tokens
  ]

  depends_on = [google_project_service.this]
}

# Signed PUT URLs: the URL is signed as the function's own account (signBlob on itself),
# which must be allowed to create objects in the uploads bucket.
resource "google_storage_bucket_iam_member" "scribe_uploads_creator" {
  bucket = google_storage_bucket.bucket["uploads"].name
  role   = "roles/storage.objectCreator"
  member = module.scribe.service_account_member
}

resource "google_service_account_iam_member" "scribe_sign_as_itself" {
  service_account_id = module.scribe.service_account_id
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = module.scribe.service_account_member
}

resource "google_pubsub_topic_iam_member" "scribe_publish_note_events" {
  project = var.project_id
  topic   = module.topic_note_events.name
  role    = "roles/pubsub.publisher"
  member  = module.scribe.service_account_member
}
