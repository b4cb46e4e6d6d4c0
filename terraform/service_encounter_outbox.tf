# encounter-outbox: every minute Cloud Scheduler (with the function's own invoker account and
# an OIDC token for the function's URL, both checked by the code) asks it to re-send the
# encounter events whose publish failed after their change committed (a Pub/Sub outage):
# encounter.Store.Announce records them in clinics/{c}/encounterOutbox, this function
# publishes them on encounter-events and deletes what it published (bounded per run, the
# rest with the next run). Events keep their ids, so consumers that saw one ignore it.
module "encounter_outbox" {
  source = "./modules/function"

  name            = "encounter-outbox"
  description     = "Re-sends encounter events whose publish failed"
  deployment      = local.function_deployment
  trigger         = "scheduler"
  timeout_seconds = 60
  max_instances   = 1
  concurrency     = 1
  labels          = local.labels

  schedule = {
    cron      = "* * * * *"
    time_zone = "Etc/UTC"
    path      = "/"
  }

  environment = merge(local.common_env, {
    MEDI_SCHEDULER_INVOKER_SA          = module.encounter_outbox.invoker_service_account_email
    MEDI_FUNCTION_URL_ENCOUNTER_OUTBOX = local.function_url["encounter-outbox"]
    MEDI_TOPIC_ENCOUNTER_EVENTS        = module.topic_encounter_events.name
    MEDI_ENCOUNTER_OUTBOX_BATCH        = "200"
  })

  # Reads and deletes the outbox entries; Firestore has no narrower role.
  project_roles = ["roles/datastore.user"]

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic_iam_member" "encounter_outbox_publish_encounter_events" {
  project = var.project_id
  topic   = module.topic_encounter_events.name
  role    = "roles/pubsub.publisher"
  member  = module.encounter_outbox.service_account_member
}
