# A topic with its dead-letter topic. Every delivering subscription forwards a message it
# could not deliver after max_delivery_attempts to <name>-dlq, whose "hold" subscription
# keeps it for 7 days for an operator (alert dead-letter-backlog, docs/runbooks/).
resource "google_pubsub_topic" "this" {
  project                    = var.project_id
  name                       = var.name
  labels                     = var.labels
  message_retention_duration = var.message_retention_duration
}

resource "google_pubsub_topic" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.name}-dlq"
  labels                     = merge(var.labels, { dead_letter_for = var.name })
  message_retention_duration = "604800s"
}

resource "google_pubsub_subscription" "push" {
  for_each = var.push_subscriptions

  project                    = var.project_id
  name                       = each.key
  topic                      = google_pubsub_topic.this.id
  labels                     = var.labels
  ack_deadline_seconds       = each.value.ack_deadline_seconds
  enable_message_ordering    = each.value.message_ordering
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = each.value.endpoint
    oidc_token {
      service_account_email = each.value.service_account_email
      audience              = each.value.audience
    }
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = each.value.max_delivery_attempts
  }

  retry_policy {
    minimum_backoff = each.value.minimum_backoff
    maximum_backoff = each.value.maximum_backoff
  }

  expiration_policy {
    ttl = "" # never expires, even without traffic
  }
}

# Where dead letters wait. It is itself the end of the line: no dead-letter policy of its
# own (documented exception, asserted separately in terraform/tests).
resource "google_pubsub_subscription" "dead_letter_hold" {
  project                    = var.project_id
  name                       = "${var.name}-dlq-hold"
  topic                      = google_pubsub_topic.dead_letter.id
  labels                     = merge(var.labels, { dead_letter_for = var.name })
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }
}

# The Pub/Sub service agent publishes dead letters and acknowledges them on the source
# subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${var.pubsub_service_agent}"
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = google_pubsub_subscription.push

  project      = var.project_id
  subscription = each.value.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${var.pubsub_service_agent}"
}
