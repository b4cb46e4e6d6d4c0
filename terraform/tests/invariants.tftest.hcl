# Invariants of the whole configuration, checked against mocked resources (no project, no
# credentials). scripts/tfcheck runs this file once per environment:
#   terraform test -var-file=envs/<env>.tfvars
# with tests/code_facts.auto.tfvars.json generated from the Go code
# (go run ./scripts/deploy facts): the env names the config structs read, the functions
# of the local stack's catalog (scripts/stack/catalog.go) with the route table it routes
# by (shared/routes/routes.json, which locals.tf reads too) and the code's composite
# queries.

mock_provider "google" {}

variables {
  release        = "test"
  source_archive = "source.zip"
  source_sha256  = "0000000000000000000000000000000000000000000000000000000000000000"
}

run "invariants" {
  # Mocked apply: computed attributes get unique fake values, so identities can be compared.
  command = apply

  # --- functions --------------------------------------------------------------------------
  assert {
    condition     = toset(keys(output.functions)) == setunion(["auth", "patients", "queue", "triage", "scribe", "summarize", "scribe-ingest", "scribe-worker", "queue-projector", "summarize-worker", "mailer", "retention"], keys(var.catalog_triggers))
    error_message = "The deployed functions must be those of scripts/stack/catalog.go, got ${jsonencode(keys(output.functions))}."
  }

  assert {
    condition     = toset(keys(local.functions)) == toset(local.function_names)
    error_message = "local.function_names (the deterministic URLs) must list exactly the functions of local.functions."
  }

  assert {
    condition     = alltrue([for k, f in output.functions : f.name == k && f.entry_point == k && f.runtime == "go126"])
    error_message = "Every function runs go126 with its own name as entry point (as registered in functions.go)."
  }

  assert {
    condition = length(distinct(concat(
      [for f in output.functions : f.service_account_email],
      [for f in output.functions : f.invoker if f.own_invoker],
      [google_service_account.build.email, google_service_account.tasks_invoker.email],
    ))) == length(output.functions) + length([for f in output.functions : f if f.own_invoker]) + 2
    error_message = "Every function must have its own runtime service account (and every event-triggered function its own invoker), shared with nothing else."
  }

  assert {
    condition     = length(distinct([for f in output.functions : f.service_account_id])) == length(output.functions) && !contains([for f in output.functions : f.service_account_id], google_service_account.tasks_invoker.account_id)
    error_message = "Runtime service account ids must differ per function: ${jsonencode([for f in output.functions : f.service_account_id])}."
  }

  assert {
    condition     = alltrue([for f in output.functions : !contains(f.project_roles, "roles/owner") && !contains(f.project_roles, "roles/editor")])
    error_message = "No function gets a basic role."
  }

  # --- who may call what ------------------------------------------------------------------
  # Documented exception (docs/deployment.md, "Public functions"): the six HTTP functions
  # are invokable by allUsers because the load balancer has no identity of its own to
  # present; their ingress admits only the load balancer (Cloud Armor) and the code
  # authenticates every request with a Firebase ID token.
  assert {
    condition     = toset([for k, f in output.functions : k if f.public]) == toset(["auth", "patients", "queue", "triage", "scribe", "summarize"])
    error_message = "Only the six HTTP functions of the route table are public."
  }

  assert {
    condition     = alltrue([for f in output.functions : contains(f.invoker_members, "allUsers") == f.public && !contains(f.invoker_members, "allAuthenticatedUsers")])
    error_message = "allUsers may invoke exactly the public functions; allAuthenticatedUsers nothing."
  }

  assert {
    condition     = alltrue([for k, f in output.functions : f.public || jsonencode(f.invoker_members) == jsonencode(["serviceAccount:${coalesce(f.invoker, "none")}"])])
    error_message = "An internal function is invoked by one account only: its own invoker, or the tasks invoker for task workers."
  }

  assert {
    condition     = alltrue([for f in output.functions : f.own_invoker == contains(["pubsub", "storage", "scheduler"], f.trigger) && (f.trigger != "tasks" || f.invoker == google_service_account.tasks_invoker.email)])
    error_message = "Event-triggered functions have an invoker of their own; task workers accept the tasks invoker (MEDI_TASKS_INVOKER_SA)."
  }

  assert {
    condition     = alltrue([for f in output.functions : f.ingress == (f.public ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_INTERNAL_ONLY")])
    error_message = "In every environment, dev included, no function can be reached around the load balancer and Cloud Armor: internal functions have internal ingress, public ones admit only the load balancer."
  }

  assert {
    condition     = local.functions["mailer"].function.service_config[0].environment_variables["MEDI_SMTP_HOST"] != "" && !contains(keys(local.functions["mailer"].function.service_config[0].environment_variables), "MEDI_DEV_OUTBOX_DIR")
    error_message = "Every deployed mailer, dev included, sends through the SMTP relay; the dev outbox is local only."
  }

  # --- environment ------------------------------------------------------------------------
  # Names the config structs read, or MEDI_FUNCTION_URL_<FUNCTION> (shared/app.FunctionURL).
  assert {
    condition = length([
      for n in distinct(flatten([for f in output.functions : f.environment_names])) : n
      if !contains(var.code_env_names, n) && !(
        var.code_function_url_prefix != "" && startswith(n, var.code_function_url_prefix) &&
        contains([for k in keys(output.functions) : upper(replace(k, "-", "_"))], trimprefix(n, var.code_function_url_prefix))
      )
    ]) == 0
    error_message = "Environment variables no code reads: ${jsonencode([
      for n in distinct(flatten([for f in output.functions : f.environment_names])) : n
      if !contains(var.code_env_names, n) && !(
        var.code_function_url_prefix != "" && startswith(n, var.code_function_url_prefix) &&
        contains([for k in keys(output.functions) : upper(replace(k, "-", "_"))], trimprefix(n, var.code_function_url_prefix))
      )
    ])}."
  }

  assert {
    condition     = alltrue([for f in output.functions : length(setsubtract(["MEDI_ENV", "GOOGLE_CLOUD_PROJECT", "MEDI_VERSION"], f.environment_names)) == 0])
    error_message = "Every function gets MEDI_ENV, GOOGLE_CLOUD_PROJECT and MEDI_VERSION."
  }

  assert {
    condition     = alltrue([for f in output.functions : contains(f.environment_names, "MEDI_CORS_ORIGINS") == f.public])
    error_message = "The public HTTP functions (and only they) get MEDI_CORS_ORIGINS."
  }

  # --- load balancer ----------------------------------------------------------------------
  assert {
    condition     = jsonencode({ for k, v in output.url_map_routes : k => sort(v) }) == jsonencode({ for k, v in var.catalog_routes : k => sort(v) })
    error_message = "The URL map must route exactly as the local gateway (shared/routes/routes.json, scripts/stack/catalog.go): terraform ${jsonencode(output.url_map_routes)} vs catalog ${jsonencode(var.catalog_routes)}."
  }

  assert {
    condition     = alltrue([for name, trigger in var.catalog_triggers : try(output.functions[name].trigger == trigger, false)])
    error_message = "Every function of scripts/stack/catalog.go is deployed with the same trigger: catalog ${jsonencode(var.catalog_triggers)}."
  }

  assert {
    condition     = alltrue([for queue, worker in var.catalog_queues : try(local.queues[queue].worker == worker, false)])
    error_message = "Each Cloud Tasks queue feeds the worker the catalog names: ${jsonencode(var.catalog_queues)}."
  }

  assert {
    condition = alltrue([
      for fn, topic in var.catalog_topics : try(anytrue([
        for s in values(local.topics[topic].subscriptions) : s.push_config[0].push_endpoint == "${local.functions[fn].uri}/projects/${var.project_id}/topics/${topic}"
      ]), false)
    ])
    error_message = "Each Pub/Sub-triggered function of the catalog has a push subscription on its topic: ${jsonencode(var.catalog_topics)}."
  }

  assert {
    condition     = output.default_http_function == var.catalog_default_function
    error_message = "The URL map's default function must be the catalog's DefaultService (${var.catalog_default_function})."
  }

  assert {
    condition     = alltrue([for b in google_compute_backend_service.function : b.security_policy == google_compute_security_policy.api.id])
    error_message = "Every backend is behind the Cloud Armor policy."
  }

  assert {
    condition     = length([for r in google_compute_security_policy.api.rule : r if r.action == "throttle" || r.action == "rate_based_ban"]) >= 2
    error_message = "Cloud Armor rate-limits /v1/auth/* and /v1/sessions."
  }

  assert {
    condition = alltrue([for k in ["scribe-worker", "summarize-worker"] : alltrue([
      for v in ["MEDI_GEMINI_MODEL", "MEDI_GEMINI_PRICE_INPUT_PER_MTOK", "MEDI_GEMINI_PRICE_OUTPUT_PER_MTOK"] :
      try(local.functions[k].function.service_config[0].environment_variables[v] == local.gemini_env[v], false)
    ])])
    error_message = "Both AI workers run the model and prices of var.gemini_model and var.gemini_price_*_per_mtok (a model changed without its price records wrong costs)."
  }

  # --- Pub/Sub ----------------------------------------------------------------------------
  assert {
    condition = alltrue(flatten([
      for t in values(local.topics) : [
        for s in values(t.subscriptions) : try(s.dead_letter_policy[0].dead_letter_topic != null && s.dead_letter_policy[0].max_delivery_attempts >= 5, false)
      ]
    ]))
    error_message = "Every subscription needs a dead-letter policy (topic <name>-dlq, at least 5 attempts)."
  }

  assert {
    condition = alltrue(flatten([
      for t in values(local.topics) : [
        for id, s in t.subscriptions : length([
          for k, f in local.functions : k
          if id == "${k}-${t.name}" && f.trigger == "pubsub" &&
          try(tonumber(trimsuffix(f.function.service_config[0].environment_variables["MEDI_REQUEST_TIMEOUT"], "s")) < s.ack_deadline_seconds, false)
        ]) == 1
      ]
    ]))
    error_message = "Every push subscription feeds the Pub/Sub function it is named after (<function>-<topic>), whose deadline per delivery (MEDI_REQUEST_TIMEOUT) is shorter than the ack deadline: a delivery that meets a hung backend must fail and be redelivered, not outlive its ack deadline."
  }

  assert {
    condition = alltrue(flatten([
      for t in values(local.topics) : [
        for s in values(t.subscriptions) : length(s.retry_policy) == 1 && try(length(s.push_config[0].oidc_token) == 1, false)
      ]
    ]))
    error_message = "Every subscription retries with backoff and pushes with an OIDC token."
  }

  assert {
    condition     = alltrue([for t in values(local.topics) : t.dead_letter_subscription.topic != null && t.dead_letter_subscription.message_retention_duration == "604800s"])
    error_message = "Every dead-letter topic has a hold subscription keeping messages 7 days (the documented exception to the dead-letter rule)."
  }

  assert {
    condition     = length(module.topic_encounter_events.subscriptions) >= 1
    error_message = "encounter-events feeds the queue projector."
  }

  # --- Cloud Tasks and Scheduler ---------------------------------------------------------
  assert {
    condition     = toset(keys(google_cloud_tasks_queue.queue)) == toset(["scribe", "summaries", "mail"])
    error_message = "Queues scribe, summaries and mail (shared/tasks)."
  }

  assert {
    condition     = alltrue([for q in google_cloud_tasks_queue.queue : length(q.rate_limits) == 1 && try(q.retry_config[0].max_attempts > 1, false)])
    error_message = "Every queue has rate limits and a retry policy."
  }

  # The local dispatcher retries as production does: shared/tasks QueueRetry is the same
  # retry_config, queue by queue.
  assert {
    condition = jsonencode({
      for q, c in local.queues : q => {
        max_attempts       = c.max_attempts
        min_backoff        = c.min_backoff
        max_backoff        = c.max_backoff
        max_doublings      = c.max_doublings
        max_retry_duration = c.max_retry_duration
      }
    }) == jsonencode(var.code_queue_retry)
    error_message = "Queue retry policies must equal shared/tasks QueueRetry (the local dispatcher's): code ${jsonencode(var.code_queue_retry)}."
  }

  assert {
    condition     = try(module.retention.scheduler_job.http_target[0].oidc_token[0].service_account_email == output.functions["retention"].invoker, false)
    error_message = "Cloud Scheduler calls retention with an OIDC token of retention's own invoker account."
  }

  assert {
    condition     = try(module.retention.scheduler_job.http_target[0].oidc_token[0].audience == local.function_url["retention"] && startswith(module.retention.scheduler_job.http_target[0].uri, local.function_url["retention"]), false)
    error_message = "The scheduler's token audience is retention's URL as the code knows it (MEDI_FUNCTION_URL_RETENTION)."
  }

  assert {
    condition     = try(module.audit_seal.scheduler_job.schedule == "*/5 * * * *" && module.audit_seal.scheduler_job.http_target[0].oidc_token[0].service_account_email == output.functions["audit-seal"].invoker && module.audit_seal.scheduler_job.http_target[0].oidc_token[0].audience == local.function_url["audit-seal"], false)
    error_message = "Cloud Scheduler calls audit-seal every 5 minutes with an OIDC token of its own invoker account for its URL (MEDI_FUNCTION_URL_AUDIT_SEAL)."
  }

  assert {
    condition     = try(module.encounter_outbox.scheduler_job.schedule == "* * * * *" && module.encounter_outbox.scheduler_job.http_target[0].oidc_token[0].service_account_email == output.functions["encounter-outbox"].invoker && module.encounter_outbox.scheduler_job.http_target[0].oidc_token[0].audience == local.function_url["encounter-outbox"], false)
    error_message = "Cloud Scheduler calls encounter-outbox every minute with an OIDC token of its own invoker account for its URL (MEDI_FUNCTION_URL_ENCOUNTER_OUTBOX)."
  }

  assert {
    condition     = alltrue([for k, f in local.functions : f.url == local.function_url[k]])
    error_message = "local.function_url (MEDI_FUNCTION_URL_*) must be each function's deterministic URL."
  }

  # --- storage ----------------------------------------------------------------------------
  assert {
    condition     = alltrue([for b in google_storage_bucket.bucket : b.public_access_prevention == "enforced" && b.uniform_bucket_level_access])
    error_message = "Every bucket enforces public access prevention and uniform bucket-level access."
  }

  assert {
    condition     = alltrue([for b in google_storage_bucket.bucket : try(b.versioning[0].enabled, false) && length([for r in b.lifecycle_rule : r if anytrue([for a in r.action : a.type == "Delete"])]) >= 2])
    error_message = "Every bucket is versioned and deletes objects (and old versions) after its retention period."
  }

  assert {
    condition     = length(google_storage_bucket.bucket["uploads"].cors) == 1 && try(contains(google_storage_bucket.bucket["uploads"].cors[0].method, "PUT") && google_storage_bucket.bucket["uploads"].cors[0].origin == distinct(concat(["https://${var.api_domain}"], var.cors_origins)), false)
    error_message = "The uploads bucket accepts signed PUTs from the app origins only."
  }

  # --- Firestore --------------------------------------------------------------------------
  assert {
    condition     = google_firestore_database.default.type == "FIRESTORE_NATIVE"
    error_message = "Firestore runs in native mode."
  }

  assert {
    condition     = var.environment != "prod" || (google_firestore_database.default.delete_protection_state == "DELETE_PROTECTION_ENABLED" && google_firestore_database.default.point_in_time_recovery_enablement == "POINT_IN_TIME_RECOVERY_ENABLED")
    error_message = "In prod, Firestore has delete protection and point-in-time recovery."
  }

  assert {
    condition     = length(google_firestore_index.composite) == length(distinct([for ix in jsondecode(file("firestore_indexes.json")) : jsonencode(ix)]))
    error_message = "Every entry of firestore_indexes.json becomes one composite index."
  }

  # A query is covered by an index holding all its fields or, as Firestore merges indexes
  # for equality filters, by one index per equality field that also holds the range and
  # order fields.
  assert {
    condition = length([
      for q in var.code_composite_queries : q if !alltrue([
        for e in(length(q.equality) > 0 ? q.equality : [""]) : anytrue([
          for ix in google_firestore_index.composite :
          (q.collection == "" || q.collection == ix.collection) && length(setsubtract(compact(concat([e], q.others)), [for f in ix.fields : f.field_path])) == 0
        ])
      ])
    ]) == 0
    error_message = "Composite queries in the code without an index in firestore_indexes.json: ${jsonencode([
      for q in var.code_composite_queries : q if !alltrue([
        for e in(length(q.equality) > 0 ? q.equality : [""]) : anytrue([
          for ix in google_firestore_index.composite :
          (q.collection == "" || q.collection == ix.collection) && length(setsubtract(compact(concat([e], q.others)), [for f in ix.fields : f.field_path])) == 0
        ])
      ])
    ])}."
  }

  assert {
    condition     = toset([for f in google_firestore_field.ttl : "${f.collection}.${f.field}" if length(f.ttl_config) == 1]) == toset(["idempotencyCommits.expireAt", "idempotencyKeys.expireAt", "llmUsage.expireAt", "mailDeliveries.expireAt", "openTransactions.expireAt", "processedEvents.expireAt", "rateLimits.expireAt", "sessions.expireAt"])
    error_message = "TTL policies on idempotencyCommits, idempotencyKeys, llmUsage, mailDeliveries, openTransactions, processedEvents, rateLimits and sessions (expireAt)."
  }

  assert {
    condition     = alltrue([for f in ["recordedAt", "failedAt"] : contains([for ix in google_firestore_field.encounter_outbox[f].index_config[0].indexes : ix.query_scope if ix.order == "ASCENDING"], "COLLECTION_GROUP")])
    error_message = "encounterOutbox.recordedAt and .failedAt need their collection-group single-field indexes (RedeliverOutbox's queries)."
  }

  assert {
    condition     = length(google_firestore_backup_schedule.daily) == 1 && google_firestore_backup_schedule.daily[0].retention == "${max(14, var.firestore_backup_retention_days) * 86400}s"
    error_message = "Daily Firestore backups kept at least 14 days (the default) beyond the 7-day PITR window."
  }

  # --- alerts -----------------------------------------------------------------------------
  assert {
    condition     = length(setsubtract(["api-5xx-rate", "task-queue-backlog", "dead-letter-backlog", "triage-sla-breach"], keys(google_monitoring_alert_policy.alert))) == 0
    error_message = "Alerts on the 5xx rate, task and dead-letter backlogs and triage SLA breaches."
  }

  assert {
    condition     = google_logging_metric.triage_sla_breach.filter == "resource.type=\"cloud_run_revision\" AND jsonPayload.message=\"triage_sla_breach\" AND jsonPayload.slaBreach=true"
    error_message = "The SLA metric counts the log lines of shared/assessment.LogSLA."
  }

  assert {
    condition     = strcontains(google_logging_metric.break_glass_alerts.filter, "jsonPayload.message=\"break_glass_alerted\"") && strcontains(google_monitoring_alert_policy.log["break-glass-unnotified"].conditions[0].condition_matched_log[0].filter, "break-glass alert has no recipient")
    error_message = "The break-glass metric counts access-alerts' break_glass_alerted lines, and break-glass-unnotified fires when a grant has no admin to tell (shared/access)."
  }

  assert {
    condition     = alltrue([for k, a in merge(google_monitoring_alert_policy.alert, google_monitoring_alert_policy.log) : try(strcontains(a.documentation[0].content, "docs/runbooks/${k}.md"), false)])
    error_message = "Every alert's documentation links its runbook."
  }

  # --- the web app (web.tf) ----------------------------------------------------------------
  assert {
    condition     = google_compute_backend_bucket.web.enable_cdn && google_compute_backend_bucket.web.bucket_name == google_storage_bucket.web.name && google_compute_backend_bucket.web.cdn_policy[0].cache_mode == "USE_ORIGIN_HEADERS"
    error_message = "The web app is served from its bucket through Cloud CDN, which follows the objects' Cache-Control."
  }

  assert {
    condition = alltrue([for h in ["Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'", "X-Content-Type-Options: nosniff", "Strict-Transport-Security: max-age=31536000", "X-Frame-Options: DENY", "Referrer-Policy: no-referrer"] :
    anytrue([for c in google_compute_backend_bucket.web.custom_response_headers : startswith(c, h)])])
    error_message = "The web app's answers carry the security headers of web/security-headers.json, got ${jsonencode(google_compute_backend_bucket.web.custom_response_headers)}."
  }

  assert {
    condition = alltrue([for c in google_compute_backend_bucket.web.custom_response_headers :
      !strcontains(c, "unsafe-inline") && !strcontains(c, "unsafe-eval") && !strcontains(c, "{connect}") && !strcontains(c, "*")
    ])
    error_message = "The Content-Security-Policy allows no inline script or style, no eval and no wildcard origin."
  }

  assert {
    condition     = google_storage_bucket_object.web_config.cache_control == "no-cache" && try(google_storage_bucket_object.web["index.html"].cache_control, "no-cache") == "no-cache" && alltrue([for k, o in google_storage_bucket_object.web : startswith(k, "assets/") ? o.cache_control == "public, max-age=31536000, immutable" : strcontains(o.cache_control, "max-age=3600") || o.cache_control == "no-cache"])
    error_message = "Hashed assets are cached for a year as immutable; index.html and config.json are revalidated."
  }

  assert {
    condition     = google_compute_url_map.api.path_matcher[0].default_service == google_compute_backend_bucket.web.id
    error_message = "Paths the API does not own are the web app's."
  }

  assert {
    condition = alltrue([for f, prefixes in local.url_map_routes : alltrue([for p in prefixes :
      anytrue([for r in google_compute_url_map.api.path_matcher[0].route_rules : r.service == google_compute_backend_service.function[f].id && anytrue([for m in r.match_rules : m.prefix_match == "${p}/"]) && anytrue([for m in r.match_rules : m.full_path_match == p])])
    ])])
    error_message = "Every function prefix still reaches its function (itself and below it) before the web app."
  }

  assert {
    condition = length(distinct([for r in google_compute_url_map.api.path_matcher[0].route_rules : r.priority])) == length(google_compute_url_map.api.path_matcher[0].route_rules) && alltrue([for t in local.web_routes :
      anytrue([for r in google_compute_url_map.api.path_matcher[0].route_rules : r.service == google_compute_backend_bucket.web.id && anytrue([for m in r.match_rules : m.path_template_match == t]) && try(r.route_action[0].url_rewrite[0].path_template_rewrite, "") == "/index.html"])
    ])
    error_message = "Every route of web/routes.json is rewritten to /index.html, and route rules have distinct priorities."
  }

  assert {
    condition     = contains(google_storage_bucket.bucket["uploads"].cors[0].origin, "https://${var.api_domain}")
    error_message = "The web app's origin may PUT signed uploads to the uploads bucket."
  }

  # --- Google APIs ------------------------------------------------------------------------
  assert {
    condition     = length(setsubtract(var.code_google_apis, local.services)) == 0
    error_message = "Every Google API the code calls (facts: client imports, signed URLs through IAM signBlob) is enabled in services.tf; missing: ${jsonencode(setsubtract(var.code_google_apis, local.services))}."
  }

  # --- audit anchors (audit_anchors.tf): who can write ------------------------------------
  assert {
    condition     = [for b in google_storage_bucket_iam_member.audit_anchors : b.member if b.role == "roles/storage.objectCreator"] == [module.audit_seal.service_account_member]
    error_message = "Only audit-seal may create audit anchors."
  }

  assert {
    condition     = alltrue([for b in google_storage_bucket_iam_member.audit_anchors : b.bucket == google_storage_bucket.audit_anchors.name && contains(["roles/storage.objectCreator", "roles/storage.objectViewer"], b.role)])
    error_message = "No identity may replace or delete audit anchors: the anchors bucket grants object creation (audit-seal) and reading only."
  }

  assert {
    condition     = toset([for b in google_storage_bucket_iam_member.audit_anchors : b.member if b.role == "roles/storage.objectViewer"]) == toset([module.audit_seal.service_account_member, module.auth.service_account_member])
    error_message = "audit-seal and auth (GET /v1/audit/verify) read the audit anchors; nobody else."
  }

  assert {
    condition = !contains([
      google_storage_bucket_iam_member.build_source_reader.bucket, google_storage_bucket_iam_member.retention_uploads_user.bucket,
      google_storage_bucket_iam_member.scribe_uploads_creator.bucket, google_storage_bucket_iam_member.scribe_ingest_uploads_reader.bucket,
      google_storage_bucket_iam_member.scribe_worker_uploads_reader.bucket, google_storage_bucket_iam_member.web_public_read.bucket,
    ], google_storage_bucket.audit_anchors.name)
    error_message = "No other bucket grant reaches the audit anchors bucket."
  }

  assert {
    condition     = alltrue([for f in output.functions : alltrue([for r in f.project_roles : !startswith(r, "roles/storage.")])])
    error_message = "No function has a project-wide Cloud Storage role (it would reach the audit anchors): storage roles are granted per bucket."
  }

  assert {
    condition     = google_storage_bucket.audit_anchors.versioning[0].enabled && google_storage_bucket.audit_anchors.public_access_prevention == "enforced" && google_storage_bucket.audit_anchors.retention_policy[0].retention_period >= 86400
    error_message = "The audit anchors bucket keeps versions, is never public and has a retention policy."
  }

  assert {
    condition     = var.environment == "dev" || (google_storage_bucket.audit_anchors.retention_policy[0].is_locked && var.audit_anchor_retention_days >= 2555)
    error_message = "In staging and prod the anchors' retention policy is locked and lasts at least 7 years."
  }

  assert {
    condition     = alltrue([for k in ["audit-seal", "auth"] : local.functions[k].function.service_config[0].environment_variables["MEDI_AUDIT_ANCHOR_BUCKET"] == google_storage_bucket.audit_anchors.name])
    error_message = "audit-seal writes and auth reads the anchors bucket."
  }
}

# --- AI scribe ---------------------------------------------------------------------------
run "speech_recognizer_location_reaches_the_worker" {
  command = apply
  variables {
    speech_model    = "chirp_2"
    speech_location = "europe-west4"
  }
  assert {
    condition     = local.functions["scribe-worker"].function.service_config[0].environment_variables["MEDI_SPEECH_LOCATION"] == "europe-west4"
    error_message = "scribe-worker runs its recognizer where var.speech_location says."
  }
  assert {
    condition     = local.functions["scribe-worker"].function.service_config[0].environment_variables["MEDI_LLM_MONTHLY_BUDGET_USD"] == local.functions["summarize-worker"].function.service_config[0].environment_variables["MEDI_LLM_MONTHLY_BUDGET_USD"]
    error_message = "The scribe and the summarizer share one monthly model budget."
  }
}

run "chirp_2_outside_its_regions_is_refused" {
  command = plan
  variables {
    speech_model    = "chirp_2"
    speech_location = "global"
  }
  expect_failures = [var.speech_location]
}

run "medical_speech_models_are_english_only" {
  command = plan
  variables {
    speech_model    = "medical_conversation"
    speech_language = "de-DE"
  }
  expect_failures = [var.speech_language]
}
