locals {
  is_prod = var.environment == "prod"

  labels = {
    app         = "medi-os"
    environment = var.environment
  }

  # Environment every function reads through shared/config.Base.
  common_env = merge(
    {
      MEDI_ENV             = var.environment
      GOOGLE_CLOUD_PROJECT = var.project_id
      MEDI_VERSION         = var.release
      LOG_LEVEL            = var.log_level
    },
    var.auth_project_id == "" ? {} : { MEDI_AUTH_PROJECT = var.auth_project_id },
  )

  # Added for the public HTTP functions (browsers call them).
  http_env = {
    MEDI_CORS_ORIGINS = join(",", var.cors_origins)
  }

  # The model both AI workers call and its prices (recorded costs and the summary budget
  # are computed from them): one setting, so the two workers cannot drift apart.
  gemini_env = {
    MEDI_GEMINI_MODEL                 = var.gemini_model
    MEDI_GEMINI_PRICE_INPUT_PER_MTOK  = tostring(var.gemini_price_input_per_mtok)
    MEDI_GEMINI_PRICE_OUTPUT_PER_MTOK = tostring(var.gemini_price_output_per_mtok)
  }

  # Where and from what every function is built and run.
  function_deployment = {
    project_id            = var.project_id
    project_number        = data.google_project.this.number
    region                = var.region
    source_bucket         = google_storage_bucket.bucket["source"].name
    source_object         = google_storage_bucket_object.source.name
    build_service_account = google_service_account.build.id
    docker_repository     = google_artifact_registry_repository.functions.id
  }

  # Every function of the suite, one service_<name>.tf each. The load
  # balancer, the outputs and terraform/tests iterate this map: add new functions here.
  functions = {
    auth               = module.auth
    patients           = module.patients
    queue              = module.queue
    triage             = module.triage
    scribe             = module.scribe
    summarize          = module.summarize
    "scribe-ingest"    = module.scribe_ingest
    "scribe-worker"    = module.scribe_worker
    "queue-projector"  = module.queue_projector
    "summarize-worker" = module.summarize_worker
    # Summary invalidation on note and encounter events (beyond the first release).
    "summarize-note-events"      = module.summarize_note_events
    "summarize-encounter-events" = module.summarize_encounter_events
    mailer                       = module.mailer
    retention                    = module.retention
    # Identity and audit (issue 6): scheduled audit sealing, break-glass alerts to admins.
    "audit-seal"    = module.audit_seal
    "access-alerts" = module.access_alerts
    # Re-sending encounter events whose publish failed (an outbox per clinic).
    "encounter-outbox" = module.encounter_outbox
    # Every accepted scribe upload ends drafted or failed in bounded time (issue 20).
    "scribe-sweeper" = module.scribe_sweeper
  }

  public_functions = { for k, f in local.functions : k => f if f.public }

  # Deterministic Cloud Run URL of each function (https://NAME-PROJECT_NUMBER.REGION.run.app),
  # known before the function exists: task producers target it, workers check the OIDC
  # audience against it (MEDI_FUNCTION_URL_<NAME>, shared/app.FunctionURL). Built from a
  # plain list of names: functions' environments use it, so it cannot depend on them.
  function_names = [
    "auth", "patients", "queue", "triage", "scribe", "summarize",
    "scribe-ingest", "scribe-worker", "queue-projector", "summarize-worker", "mailer", "retention",
    "summarize-note-events", "summarize-encounter-events", "audit-seal", "access-alerts",
    "encounter-outbox",
    "scribe-sweeper",
  ]
  function_url = {
    for name in local.function_names : name => "https://${name}-${data.google_project.this.number}.${var.region}.run.app"
  }

  # The route table (shared/routes/routes.json): which function serves each path prefix
  # and which one gets the paths no prefix matches. The same file drives the local
  # stack's gateway and the docs' route table, so the three cannot disagree.
  route_table           = jsondecode(file("${path.module}/../shared/routes/routes.json"))
  routes                = { for r in local.route_table.routes : r.function => r.prefixes }
  default_http_function = local.route_table.default
}
