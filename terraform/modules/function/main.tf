# One Cloud Run function (Cloud Functions gen2) with its own runtime service account, the
# project roles and secrets it needs, and what invokes it:
#   http      public: run.invoker for allUsers, ingress limited to the load balancer (the
#             app authenticates every request with a Firebase ID token; Cloud Armor filters
#             in front). This is the only allUsers binding of the configuration.
#   pubsub,   internal: an invoker account of its own ("inv-<name>") that Pub/Sub, Eventarc
#   storage,  or Cloud Scheduler sign OIDC tokens as; only that account may invoke it.
#   scheduler
#   tasks     internal: the shared Cloud Tasks invoker account (the code's contract:
#             MEDI_TASKS_INVOKER_SA, one account producers sign as and workers accept).
# Internal functions have internal-only ingress.
locals {
  public      = var.trigger == "http"
  internal    = !local.public
  own_invoker = local.internal && var.trigger != "tasks"
  invoker     = local.own_invoker ? google_service_account.invoker[0].email : var.invoker_service_account_email

  # Cloud Run's deterministic URL of the function, known before it exists; the code
  # checks OIDC audiences against it (MEDI_FUNCTION_URL_<NAME>).
  url = "https://${var.name}-${var.deployment.project_number}.${var.deployment.region}.run.app"

  secret_env = {
    for k, s in var.secrets : k => "secret://${s.secret_id}/versions/${s.version}"
  }
  # The code's request deadline (shared/httpx Deadline; per delivery for event functions,
  # app.CloudEventFunction): its 10s default suits the public API; an internal function
  # (task or scheduler worker, Pub/Sub or storage consumer) may use its whole Cloud Run
  # timeout, less a second to answer, so a delivery that meets a hung backend fails
  # within the subscription's ack deadline (60s, the default timeout) and is redelivered.
  request_timeout = local.public ? {} : { MEDI_REQUEST_TIMEOUT = "${var.timeout_seconds - 1}s" }
  environment     = merge(local.request_timeout, var.environment, local.secret_env)

  labels = merge(var.labels, { function = var.name })
}

resource "google_service_account" "runtime" {
  project      = var.deployment.project_id
  account_id   = "fn-${var.name}"
  display_name = "Function ${var.name}"
  description  = "Runtime identity of the ${var.name} function; used by nothing else."
}

resource "google_project_iam_member" "runtime" {
  for_each = toset(var.project_roles)

  project = var.deployment.project_id
  role    = each.value
  member  = google_service_account.runtime.member
}

resource "google_secret_manager_secret_iam_member" "runtime" {
  for_each = var.secrets

  project   = var.deployment.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.runtime.member
}

resource "google_service_account" "invoker" {
  count = local.own_invoker ? 1 : 0

  project      = var.deployment.project_id
  account_id   = "inv-${var.name}"
  display_name = "Invoker of ${var.name}"
  description  = "OIDC identity that ${var.trigger == "storage" ? "Eventarc" : var.trigger == "pubsub" ? "Pub/Sub" : "Cloud Scheduler"} uses to call the ${var.name} function; the only account allowed to invoke it."
}

# Eventarc delivers with the trigger's account, which must be allowed to receive events.
resource "google_project_iam_member" "event_receiver" {
  count = var.trigger == "storage" ? 1 : 0

  project = var.deployment.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = google_service_account.invoker[0].member
}

resource "google_cloudfunctions2_function" "this" {
  project     = var.deployment.project_id
  location    = var.deployment.region
  name        = var.name
  description = var.description
  labels      = local.labels

  build_config {
    runtime           = var.deployment.runtime
    entry_point       = var.name
    service_account   = var.deployment.build_service_account
    docker_repository = var.deployment.docker_repository
    source {
      storage_source {
        bucket = var.deployment.source_bucket
        object = var.deployment.source_object
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.runtime.email
    ingress_settings                 = local.public ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    min_instance_count               = var.min_instances
    max_instance_count               = var.max_instances
    max_instance_request_concurrency = var.concurrency
    available_memory                 = var.memory
    available_cpu                    = var.cpu
    timeout_seconds                  = var.timeout_seconds
    environment_variables            = local.environment
  }

  dynamic "event_trigger" {
    for_each = var.trigger == "storage" ? [var.storage_trigger_bucket] : []
    content {
      trigger_region        = var.deployment.region
      event_type            = "google.cloud.storage.object.v1.finalized"
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.invoker[0].email
      event_filters {
        attribute = "bucket"
        value     = event_trigger.value
      }
    }
  }

  depends_on = [
    google_project_iam_member.runtime,
    google_secret_manager_secret_iam_member.runtime,
    google_project_iam_member.event_receiver,
  ]
}

# Public HTTP functions: anyone may reach the service, but ingress only admits the load
# balancer, in every environment (dev included); the code refuses
# every request without a valid, unrevoked Firebase ID token except GET /v1/health.
resource "google_cloud_run_v2_service_iam_member" "public" {
  count = local.public ? 1 : 0

  project  = var.deployment.project_id
  location = var.deployment.region
  name     = google_cloudfunctions2_function.this.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  count = local.internal ? 1 : 0

  project  = var.deployment.project_id
  location = var.deployment.region
  name     = google_cloudfunctions2_function.this.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${local.invoker}"
}

resource "google_cloud_scheduler_job" "this" {
  count = var.trigger == "scheduler" ? 1 : 0

  project          = var.deployment.project_id
  region           = var.deployment.region
  name             = var.name
  description      = "Invokes ${var.name} on schedule."
  schedule         = var.schedule.cron
  time_zone        = var.schedule.time_zone
  attempt_deadline = "${var.timeout_seconds}s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "60s"
    max_backoff_duration = "900s"
    max_doublings        = 3
  }

  http_target {
    http_method = "POST"
    uri         = "${local.url}${var.schedule.path}"
    body        = base64encode(var.schedule.body)
    headers     = { "Content-Type" = "application/json" }
    oidc_token {
      service_account_email = google_service_account.invoker[0].email
      audience              = local.url
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.invoker]
}
