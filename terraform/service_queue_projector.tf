# queue-projector: consumes encounter-events (push subscription with a dead-letter topic,
# pubsub.tf) and keeps each clinic's queue board and wait estimates current. On the board
# tick (queue_board_tick.tf) it also republishes the encounter outbox: events whose
# publish failed after their change committed (a Pub/Sub outage), hence its publisher role.
module "queue_projector" {
  source = "./modules/function"

  name          = "queue-projector"
  description   = "Projects encounter events onto the queue board"
  deployment    = local.function_deployment
  trigger       = "pubsub"
  max_instances = 10
  labels        = local.labels

  environment = merge(local.common_env, {
    MEDI_TOPIC_ENCOUNTER_EVENTS = module.topic_encounter_events.name
  })

  project_roles = ["roles/datastore.user"]

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic_iam_member" "queue_projector_publish_encounter_events" {
  project = var.project_id
  topic   = module.topic_encounter_events.name
  role    = "roles/pubsub.publisher"
  member  = module.queue_projector.service_account_member
}

# Pub/Sub signs the push OIDC token as the invoker account (needed for projects created
# before April 2021; harmless after).
resource "google_service_account_iam_member" "queue_projector_pubsub_token_creator" {
  service_account_id = module.queue_projector.invoker_service_account_id
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${local.pubsub_service_agent}"
}
