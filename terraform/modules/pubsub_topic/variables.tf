variable "name" {
  description = "Topic id; the dead-letter topic is <name>-dlq."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,200}$", var.name))
    error_message = "name must be a lower-case topic id."
  }
}

variable "project_id" {
  description = "Project of the topics and subscriptions."
  type        = string
}

variable "pubsub_service_agent" {
  description = "Email of the project's Pub/Sub service agent (service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com), which forwards undeliverable messages to the dead-letter topic."
  type        = string
}

variable "message_retention_duration" {
  description = "How long the topics keep messages (replay window)."
  type        = string
  default     = "604800s"
}

variable "push_subscriptions" {
  description = "Push subscriptions to functions, by subscription id. endpoint is the function URL plus /projects/P/topics/T (the functions framework derives the CloudEvent source from that path, as the local stack does); OIDC tokens are signed as service_account_email for audience."
  type = map(object({
    endpoint              = string
    audience              = string
    service_account_email = string
    ack_deadline_seconds  = optional(number, 60)
    max_delivery_attempts = optional(number, 5)
    minimum_backoff       = optional(string, "10s")
    maximum_backoff       = optional(string, "600s")
    message_ordering      = optional(bool, true)
  }))
  default = {}
  validation {
    condition     = alltrue([for s in values(var.push_subscriptions) : s.max_delivery_attempts >= 5 && s.max_delivery_attempts <= 100])
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub limits)."
  }
}

variable "labels" {
  description = "Labels for the topics and subscriptions."
  type        = map(string)
  default     = {}
}
