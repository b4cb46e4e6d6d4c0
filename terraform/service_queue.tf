# queue: encounters (check-in, transitions) and the queue board; publishes encounter events.
module "queue" {
  source = "./modules/function"

  name          = "queue"
  description   = "Encounters and the live queue"
  deployment    = local.function_deployment
  trigger       = "http"
  path_prefixes = local.routes["queue"]

  min_instances = var.http_min_instances
  max_instances = var.http_max_instances
  labels        = local.labels

  environment = merge(local.common_env, local.http_env, {
    MEDI_TOPIC_ENCOUNTER_EVENTS = module.topic_encounter_events.name
  })

  project_roles = [
    "roles/datastore.user",
    "roles/firebaseauth.viewer", # revocation check of ID tokens
  ]

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic_iam_member" "queue_publish_encounter_events" {
  project = var.project_id
  topic   = module.topic_encounter_events.name
  role    = "roles/pubsub.publisher"
  member  = module.queue.service_account_member
}
