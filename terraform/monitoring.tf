# Alerts, each pointing at its runbook in docs/runbooks/<alert>.md (a plan fails if the
# runbook is missing).
resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  project      = var.project_id
  display_name = "Medi OS on-call ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

# Logged when a waiting patient passes the target time to physician of their triage level
# (shared/triagerecord.LogSLA: message "triage_sla_breach", slaBreach=true, ids, level,
# stage and minutes only, never patient data), labelled by level and stage.
resource "google_logging_metric" "triage_sla_breach" {
  project     = var.project_id
  name        = "triage_sla_breaches"
  description = "Patients still waiting past the target time of their triage level."
  filter      = "resource.type=\"cloud_run_revision\" AND jsonPayload.message=\"triage_sla_breach\" AND jsonPayload.slaBreach=true"

  label_extractors = {
    esi_level = "EXTRACT(jsonPayload.esiLevel)"
    stage     = "EXTRACT(jsonPayload.stage)"
  }

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Triage SLA breaches"
    labels {
      key         = "esi_level"
      value_type  = "STRING"
      description = "Triage level (ESI 1-5)"
    }
    labels {
      key         = "stage"
      value_type  = "STRING"
      description = "When the wait was checked: assessment, confirmation or consultation"
    }
  }
}

# Logged by access-alerts once the alert mails of a break-glass grant are queued
# (shared/breakglass.AlertedMessage "break_glass_alerted": grant, clinics and counts, never
# patient data), one line per grant, labelled by the patient's clinic. Compared with the
# grants in the audit trail (action access.break_glass) it shows grants nobody was told
# about (docs/runbooks/break-glass-unnotified.md).
resource "google_logging_metric" "break_glass_alerts" {
  project     = var.project_id
  name        = "break_glass_alerts"
  description = "Break-glass grants whose admins were sent an alert mail."
  filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"access-alerts\" AND jsonPayload.message=\"break_glass_alerted\""

  label_extractors = {
    clinic_id = "EXTRACT(jsonPayload.clinicId)"
  }

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Break-glass grants alerted"
    labels {
      key         = "clinic_id"
      value_type  = "STRING"
      description = "The patient's clinic, whose admins were alerted"
    }
  }
}

locals {
  function_names_filter = join(", ", [for k in sort(keys(local.functions)) : "\"${k}\""])

  alerts = {
    "api-5xx-rate" = {
      display_name = "API 5xx rate above ${var.error_rate_threshold * 100}%"
      severity     = "ERROR"
      conditions = [{
        display_name       = "5xx share of a function's responses over 5 minutes"
        filter             = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=one_of(${local.function_names_filter}) AND metric.label.response_code_class=\"5xx\""
        denominator_filter = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=one_of(${local.function_names_filter})"
        threshold          = var.error_rate_threshold
        duration           = "300s"
        aligner            = "ALIGN_RATE"
        reducer            = "REDUCE_SUM"
        group_by           = ["resource.label.service_name"]
      }]
    }
    "task-queue-backlog" = {
      display_name = "Cloud Tasks backlog"
      severity     = "WARNING"
      conditions = [{
        display_name       = "More than ${var.task_backlog_threshold} tasks waiting in a queue for 15 minutes"
        filter             = "metric.type=\"cloudtasks.googleapis.com/queue/depth\" AND resource.type=\"cloud_tasks_queue\""
        denominator_filter = null
        threshold          = var.task_backlog_threshold
        duration           = "900s"
        aligner            = "ALIGN_MAX"
        reducer            = "REDUCE_MAX"
        group_by           = ["resource.label.queue_id"]
      }]
    }
    "dead-letter-backlog" = {
      display_name = "Undeliverable events"
      severity     = "ERROR"
      conditions = [
        {
          display_name       = "Messages in a dead-letter subscription"
          filter             = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=ends_with(\"-dlq-hold\")"
          denominator_filter = null
          threshold          = 0
          duration           = "300s"
          aligner            = "ALIGN_MAX"
          reducer            = "REDUCE_MAX"
          group_by           = ["resource.label.subscription_id"]
        },
        {
          # Eventarc's own subscription for the upload trigger has no dead-letter topic:
          # alert when an upload event has been failing for 30 minutes.
          display_name       = "Upload events unacknowledged for 30 minutes"
          filter             = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=starts_with(\"eventarc-\")"
          denominator_filter = null
          threshold          = 1800
          duration           = "300s"
          aligner            = "ALIGN_MAX"
          reducer            = "REDUCE_MAX"
          group_by           = ["resource.label.subscription_id"]
        },
      ]
    }
    "triage-sla-breach" = {
      display_name = "Patients waiting past their triage target time"
      severity     = "CRITICAL"
      conditions = [{
        display_name       = "triage_sla_breach logged"
        filter             = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.triage_sla_breach.name}\" AND resource.type=\"cloud_run_revision\""
        denominator_filter = null
        threshold          = 0
        duration           = "0s"
        aligner            = "ALIGN_SUM"
        reducer            = "REDUCE_SUM"
        group_by           = []
      }]
    }
  }
}

resource "google_monitoring_alert_policy" "alert" {
  for_each = local.alerts

  project               = var.project_id
  display_name          = each.value.display_name
  severity              = each.value.severity
  combiner              = "OR"
  notification_channels = [for c in google_monitoring_notification_channel.email : c.id]
  user_labels           = merge(local.labels, { alert = each.key })

  documentation {
    mime_type = "text/markdown"
    subject   = "[${var.environment}] ${each.value.display_name}"
    content   = "Runbook: ${var.runbook_base_url}/${each.key}.md (docs/runbooks/${each.key}.md in the repository)."
    links {
      display_name = "Runbook ${each.key}"
      url          = "${var.runbook_base_url}/${each.key}.md"
    }
  }

  dynamic "conditions" {
    for_each = each.value.conditions
    content {
      display_name = conditions.value.display_name
      condition_threshold {
        filter             = conditions.value.filter
        denominator_filter = conditions.value.denominator_filter
        comparison         = "COMPARISON_GT"
        threshold_value    = conditions.value.threshold
        duration           = conditions.value.duration
        aggregations {
          alignment_period     = "60s"
          per_series_aligner   = conditions.value.aligner
          cross_series_reducer = conditions.value.reducer
          group_by_fields      = conditions.value.group_by
        }
        dynamic "denominator_aggregations" {
          for_each = conditions.value.denominator_filter == null ? [] : [1]
          content {
            alignment_period     = "60s"
            per_series_aligner   = conditions.value.aligner
            cross_series_reducer = conditions.value.reducer
            group_by_fields      = conditions.value.group_by
          }
        }
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  lifecycle {
    precondition {
      condition     = fileexists("${path.module}/../docs/runbooks/${each.key}.md")
      error_message = "alert ${each.key} has no runbook: write docs/runbooks/${each.key}.md"
    }
  }
}

# Alerts on single log lines (notified at most every 5 minutes per alert).
locals {
  log_alerts = {
    # functions/retention: a purge failed (the session's upload or transcript is kept past
    # the clinic's retention period until a run succeeds), a clinic could not be handled,
    # or the run itself failed.
    "retention-failing" = {
      display_name = "Retention purges failing"
      severity     = "WARNING"
      filter       = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"retention\" AND (jsonPayload.message=(\"retention purge failed\" OR \"retention of a clinic failed\") OR (jsonPayload.message=\"request\" AND jsonPayload.status>=500))"
    }
    # shared/mail: the SMTP relay refused our sender (MAIL FROM, authentication, relaying,
    # a policy block) or the message (end of DATA). The recipient is not suppressed and the
    # mail queue retries; someone must fix the relay, the sender domain or the template
    # within the queue's retry window (mail: 2 h).
    "mail-rejected" = {
      display_name = "Mail refused by the relay"
      severity     = "ERROR"
      filter       = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"mailer\" AND jsonPayload.message=\"mail rejected by the relay\""
    }
    # shared/breakglass: a break-glass grant whose admins were not told, although the grant is
    # audited: its event could not be published (auth), the patient's clinic has no active
    # admin with an address, or access-alerts dropped the event (malformed, inconsistent or
    # older than the cut-off). Events access-alerts keeps failing on are dead-lettered
    # (alert dead-letter-backlog).
    "break-glass-unnotified" = {
      display_name = "Break-glass access not notified"
      severity     = "ERROR"
      filter       = "resource.type=\"cloud_run_revision\" AND (jsonPayload.message=(\"break-glass alert not published\" OR \"break-glass alert not published: no publisher\" OR \"break-glass alert has no recipient\") OR (resource.labels.service_name=\"access-alerts\" AND jsonPayload.message=(\"dropping event after a permanent failure\" OR \"dropping undecodable event\" OR \"dropping event older than the cut-off\" OR \"dropping event without an id\")))"
    }
  }
}

resource "google_monitoring_alert_policy" "log" {
  for_each = local.log_alerts

  project               = var.project_id
  display_name          = each.value.display_name
  severity              = each.value.severity
  combiner              = "OR"
  notification_channels = [for c in google_monitoring_notification_channel.email : c.id]
  user_labels           = merge(local.labels, { alert = each.key })

  documentation {
    mime_type = "text/markdown"
    subject   = "[${var.environment}] ${each.value.display_name}"
    content   = "Runbook: ${var.runbook_base_url}/${each.key}.md (docs/runbooks/${each.key}.md in the repository)."
    links {
      display_name = "Runbook ${each.key}"
      url          = "${var.runbook_base_url}/${each.key}.md"
    }
  }

  conditions {
    display_name = each.value.display_name
    condition_matched_log {
      filter = each.value.filter
    }
  }

  alert_strategy {
    auto_close = "86400s"
    notification_rate_limit {
      period = "300s"
    }
  }

  lifecycle {
    precondition {
      condition     = fileexists("${path.module}/../docs/runbooks/${each.key}.md")
      error_message = "alert ${each.key} has no runbook: write docs/runbooks/${each.key}.md"
    }
  }
}
