# Work that exactly one worker must do, rate-limited and retried.
# Producers create HTTP tasks for a worker's URL with an OIDC token of the tasks invoker
# account (shared/app.TasksConfig: MEDI_TASKS_INVOKER_SA); workers accept only that
# account's tokens for their own URL (the audience). Each producer's service file grants
# enqueue on its queue and actAs on the invoker.
locals {
  queues = {
    # Transcription and drafting call Speech-to-Text and Gemini: few at a time.
    scribe = {
      worker                    = "scribe-worker"
      max_dispatches_per_second = 2
      max_concurrent_dispatches = 10
      max_attempts              = 10
      min_backoff               = "10s"
      max_backoff               = "600s"
      max_doublings             = 5
      max_retry_duration        = "86400s"
    }
    summaries = {
      worker                    = "summarize-worker"
      max_dispatches_per_second = 5
      max_concurrent_dispatches = 20
      max_attempts              = 8
      min_backoff               = "10s"
      max_backoff               = "600s"
      max_doublings             = 5
      max_retry_duration        = "43200s"
    }
    # Invitations and password resets at the relay's pace; given up after 2 hours (a
    # reset mail later than that is useless: the user asks again, and the alert fires).
    mail = {
      worker                    = "mailer"
      max_dispatches_per_second = 2
      max_concurrent_dispatches = 5
      max_attempts              = 10
      min_backoff               = "10s"
      max_backoff               = "900s"
      max_doublings             = 4
      max_retry_duration        = "7200s"
    }
  }
}

resource "google_cloud_tasks_queue" "queue" {
  for_each = local.queues

  project  = var.project_id
  location = var.region
  name     = each.key

  rate_limits {
    max_dispatches_per_second = each.value.max_dispatches_per_second
    max_concurrent_dispatches = each.value.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = each.value.max_attempts
    min_backoff        = each.value.min_backoff
    max_backoff        = each.value.max_backoff
    max_doublings      = each.value.max_doublings
    max_retry_duration = each.value.max_retry_duration
  }

  # Operation logs name the task and its outcome, never its body.
  stackdriver_logging_config {
    sampling_ratio = 1.0
  }

  depends_on = [google_project_service.this]
}

resource "google_service_account" "tasks_invoker" {
  project      = var.project_id
  account_id   = "tasks-invoker"
  display_name = "Cloud Tasks invoker"
  description  = "OIDC identity of every Cloud Tasks delivery; may invoke the task workers only."
}

# Environment of the functions that enqueue tasks or work them.
locals {
  tasks_env = {
    MEDI_TASKS_LOCATION   = var.region
    MEDI_TASKS_INVOKER_SA = google_service_account.tasks_invoker.email
  }
}
