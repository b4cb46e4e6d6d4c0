# triage: vitals, the explainable triage proposal and the nurse's confirmation; publishes
# encounter events.
module "triage" {
  source = "./modules/function"

  name          = "triage"
  description   = "Triage assessments"
  deployment    = local.function_deployment
  trigger       = "http"
  path_prefixes = local.routes["triage"]

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

resource "google_pubsub_topic_iam_member" "triage_publish_encounter_events" {
  project = var.project_id
  topic   = module.topic_encounter_events.name
  role    = "roles/pubsub.publisher"
  member  = module.triage.service_account_member
}
