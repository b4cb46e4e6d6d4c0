# queue-projector: consumes encounter-events (push subscription with a dead-letter topic,
# pubsub.tf) and keeps each clinic's queue board and wait estimates current, also on the
# board tick (queue_board_tick.tf). It publishes nothing: re-sending events whose publish
# failed is encounter-outbox's job (service_encounter_outbox.tf).
module "queue_projector" {
  source = "./modules/function"

  name          = "queue-projector"
  description   = "Projects encounter events onto the queue board"
  deployment    = local.function_deployment
  trigger       = "pubsub"
  max_instances = 10
  labels        = local.labels

  environment = local.common_env

  project_roles = ["roles/datastore.user"]

  depends_on = [google_project_service.this]
}

# Pub/Sub signs the push OIDC token as the invoker account (needed for projects created
# before April 2021; harmless after).
resource "google_service_account_iam_member" "queue_projector_pubsub_token_creator" {
  service_account_id = module.queue_projector.invoker_service_account_id
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${local.pubsub_service_agent}"
}
