# Facts several consumers may react to. Each topic has a dead-letter
# topic; each delivering subscription forwards to it after 5 failed deliveries.
locals {
  pubsub_service_agent = "service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

module "topic_encounter_events" {
  source = "./modules/pubsub_topic"

  project_id           = var.project_id
  name                 = "encounter-events"
  pubsub_service_agent = local.pubsub_service_agent
  labels               = local.labels

  push_subscriptions = {
    # The endpoint path carries the topic so the functions framework fills the
    # CloudEvent source. Unordered: the projector rebuilds the board from the source of
    # truth, whatever the order of events, and folds concurrent deliveries of a clinic into
    # one rebuild per second; ordered delivery would hand it one event at a time.
    "queue-projector-encounter-events" = {
      endpoint              = "${module.queue_projector.uri}/projects/${var.project_id}/topics/encounter-events"
      audience              = module.queue_projector.uri
      service_account_email = module.queue_projector.invoker_service_account_email
      message_ordering      = false
    }
    "summarize-encounter-events-encounter-events" = {
      endpoint              = "${module.summarize_encounter_events.uri}/projects/${var.project_id}/topics/encounter-events"
      audience              = module.summarize_encounter_events.uri
      service_account_email = module.summarize_encounter_events.invoker_service_account_email
      message_ordering      = false # invalidation does not depend on order
    }
  }

  depends_on = [google_project_service.this]
}

# note.drafted / note.approved; each consumer is a push subscription here (with the
# dead-letter policy the module gives it).
module "topic_note_events" {
  source = "./modules/pubsub_topic"

  project_id           = var.project_id
  name                 = "note-events"
  pubsub_service_agent = local.pubsub_service_agent
  labels               = local.labels

  push_subscriptions = {
    "summarize-note-events-note-events" = {
      endpoint              = "${module.summarize_note_events.uri}/projects/${var.project_id}/topics/note-events"
      audience              = module.summarize_note_events.uri
      service_account_email = module.summarize_note_events.invoker_service_account_email
      message_ordering      = false
    }
  }

  depends_on = [google_project_service.this]
}

# Break-glass grants and revocations (shared/breakglass), for admin notification: access-alerts
# mails the active admins of the patient's clinic about each grant. A failed publish is
# logged at error level (alert break-glass-unnotified); an event the consumer cannot
# handle in 5 attempts lands on access-events-dlq-hold (alert dead-letter-backlog).
module "topic_access_events" {
  source = "./modules/pubsub_topic"

  project_id           = var.project_id
  name                 = "access-events"
  pubsub_service_agent = local.pubsub_service_agent
  labels               = local.labels

  push_subscriptions = {
    "access-alerts-access-events" = {
      endpoint              = "${module.access_alerts.uri}/projects/${var.project_id}/topics/access-events"
      audience              = module.access_alerts.uri
      service_account_email = module.access_alerts.invoker_service_account_email
      message_ordering      = false # each grant is alerted on its own
    }
  }

  depends_on = [google_project_service.this]
}

locals {
  topics = {
    encounter-events = module.topic_encounter_events
    note-events      = module.topic_note_events
    access-events    = module.topic_access_events
  }
}
