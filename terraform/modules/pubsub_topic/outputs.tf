output "name" {
  description = "Topic id."
  value       = google_pubsub_topic.this.name
}

output "id" {
  description = "Topic resource id (projects/P/topics/T)."
  value       = google_pubsub_topic.this.id
}

output "dead_letter_topic" {
  description = "Dead-letter topic id."
  value       = google_pubsub_topic.dead_letter.name
}

output "dead_letter_subscription" {
  description = "Subscription holding dead letters for operators."
  value       = google_pubsub_subscription.dead_letter_hold
}

output "subscriptions" {
  description = "Delivering subscriptions of the topic, by id (for tests: each has a dead-letter policy)."
  value       = google_pubsub_subscription.push
}
