# audit-seal: every 5 minutes Cloud Scheduler (with the function's own invoker account and
# an OIDC token for the function's URL, both checked by the code) asks it to append every
# clinic's pending audit records to the clinic's hash chain (shared/audit SealAll), so that
# a record edited after it was written is caught by GET /v1/audit/verify even if nobody
# listed the trail in between. Each run is bounded (records per clinic and per run, a time
# budget well inside the timeout); runs are idempotent and may overlap (a retry of a
# failed run meeting the next scheduled one), each batch being one transaction on the
# clinic's chain head.
module "audit_seal" {
  source = "./modules/function"

  name            = "audit-seal"
  description     = "Seals every clinic's audit chain"
  deployment      = local.function_deployment
  trigger         = "scheduler"
  timeout_seconds = 240
  max_instances   = 1
  concurrency     = 1
  labels          = local.labels

  schedule = {
    cron      = "*/5 * * * *"
    time_zone = "Etc/UTC"
    path      = "/"
  }

  environment = merge(local.common_env, {
    MEDI_SCHEDULER_INVOKER_SA      = module.audit_seal.invoker_service_account_email
    MEDI_FUNCTION_URL_AUDIT_SEAL   = local.function_url["audit-seal"]
    MEDI_AUDIT_SEAL_MAX_PER_CLINIC = "2000"
    MEDI_AUDIT_SEAL_MAX_PER_RUN    = "20000"
    MEDI_AUDIT_SEAL_TIME_BUDGET    = "2m"
    MEDI_AUDIT_ANCHOR_BUCKET       = google_storage_bucket.audit_anchors.name
  })

  # Reads and writes the audit trails and chain heads; Firestore has no narrower role.
  # Creates (only) the anchors (audit_anchors.tf).
  project_roles = ["roles/datastore.user"]

  depends_on = [google_project_service.this]
}
