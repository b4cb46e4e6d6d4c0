# Firestore (native mode), its composite indexes, TTL policies and security rules.
resource "google_firestore_database" "default" {
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = (local.is_prod || var.firestore_pitr) ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = local.is_prod ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # In prod, `terraform destroy` leaves the database alone (and delete protection would
  # refuse anyway); elsewhere it goes with the environment.
  deletion_policy = local.is_prod ? "ABANDON" : "DELETE"

  depends_on = [google_project_service.this]
}

# Composite indexes: the list the code and Terraform share. Whoever writes a query with
# more than one filtered or ordered field appends its index to firestore_indexes.json
# (a JSON array of {collectionGroup, queryScope, fields: [{fieldPath, order | arrayConfig}]});
# terraform/tests check that every such query in the code has one. Identical entries
# collapse into one index.
locals {
  firestore_index_list = jsondecode(file("${path.module}/firestore_indexes.json"))
  firestore_indexes_grouped = {
    for ix in local.firestore_index_list :
    join(";", concat(
      [ix.collectionGroup, try(ix.queryScope, "COLLECTION")],
      [for f in ix.fields : "${f.fieldPath}:${try(f.order, "")}${try(f.arrayConfig, "")}"],
    )) => ix...
  }
  firestore_indexes = { for k, v in local.firestore_indexes_grouped : k => v[0] }
}

resource "google_firestore_index" "composite" {
  for_each = local.firestore_indexes

  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = each.value.collectionGroup
  query_scope = try(each.value.queryScope, "COLLECTION")

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = try(fields.value.order, null)
      array_config = try(fields.value.arrayConfig, null)
    }
  }
}

# Documents that expire on their own (field expireAt, a timestamp): idempotency records
# (shared/httpx/idempotency), event dedupe marks (shared/events), rate-limit counters
# (shared/ratelimit), web sessions (shared/sessions), handled mail tasks (shared/mail),
# model usage records kept for the budget (shared/summary, clinics/{c}/llmUsage) and
# records of open transactions a process left behind (shared/txtrack; normally deleted
# when the transaction ends or by the sweep that rolls it back).
# Single-field indexing of expireAt is switched off (TTL fields must not hot-spot).
locals {
  ttl_collections = toset(["idempotencyCommits", "idempotencyKeys", "llmUsage", "mailDeliveries", "openTransactions", "processedEvents", "rateLimits", "sessions"])
}

resource "google_firestore_field" "ttl" {
  for_each = local.ttl_collections

  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = each.value
  field      = "expireAt"

  ttl_config {}
  index_config {}
}

# The encounter outbox's redelivery (encounter.Store.RedeliverOutbox, run by
# encounter-outbox) takes, across all clinics, the entries recorded more than a grace
# period ago: a collection-group query with an inequality on recordedAt, which needs a
# collection-group single-field index (only collection-scope ones are automatic; the
# emulator enforces none). Entries written before the outbox was transactional carry
# failedAt and no recordedAt; a second query takes them by failedAt, so that an upgrade
# loses none of their events (once no deployment holds such entries, that index serves
# nothing and may go, with the query). An explicit list replaces the defaults, so the two
# collection-scope indexes are listed too.
resource "google_firestore_field" "encounter_outbox" {
  for_each = toset(["recordedAt", "failedAt"])

  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "encounterOutbox"
  field      = each.key

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "DESCENDING"
      query_scope = "COLLECTION"
    }
  }
}

# The two fields were separate resources in earlier commits.
moved {
  from = google_firestore_field.encounter_outbox_recorded_at
  to   = google_firestore_field.encounter_outbox["recordedAt"]
}

moved {
  from = google_firestore_field.encounter_outbox_failed_at
  to   = google_firestore_field.encounter_outbox["failedAt"]
}

# Security rules from the repository's firestore.rules. Clients never talk to Firestore
# directly today (the functions use the Admin SDK, which bypasses rules); the rules
# refuse direct client access except what they explicitly allow.
resource "google_firebaserules_ruleset" "firestore" {
  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = file("${path.module}/../firestore.rules")
    }
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [google_project_service.this, google_firestore_database.default]
}

resource "google_firebaserules_release" "firestore" {
  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}

# Daily backups beyond the 7-day point-in-time-recovery window: a clinic's data can be
# restored from a backup into a new database and copied back (docs/runbooks/
# database-maintenance.md). Prod keeps at least 14 days whatever the variable says.
locals {
  firestore_backup_days = local.is_prod ? max(14, var.firestore_backup_retention_days) : var.firestore_backup_retention_days
}

resource "google_firestore_backup_schedule" "daily" {
  count = local.firestore_backup_days > 0 ? 1 : 0

  project   = var.project_id
  database  = google_firestore_database.default.name
  retention = "${local.firestore_backup_days * 86400}s"

  daily_recurrence {}
}
