# summarize-worker: one task of queue "summaries" per patient whose history changed:
# builds the cited summary (Gemini on Vertex AI, within each clinic's monthly budget) and
# caches it.
module "summarize_worker" {
  source = "./modules/function"

  name                          = "summarize-worker"
  description                   = "Builds cited history summaries"
  deployment                    = local.function_deployment
  trigger                       = "tasks"
  invoker_service_account_email = google_service_account.tasks_invoker.email
  memory                        = "1Gi"
  timeout_seconds               = 300
  concurrency                   = 8
  max_instances                 = 10
  labels                        = local.labels

  environment = merge(local.common_env, local.gemini_env, {
    MEDI_TASKS_INVOKER_SA              = google_service_account.tasks_invoker.email
    MEDI_FUNCTION_URL_SUMMARIZE_WORKER = local.function_url["summarize-worker"]
    MEDI_SUMMARY_ENGINE                = var.summary_engine
    MEDI_VERTEX_LOCATION               = var.region
    MEDI_LLM_MONTHLY_BUDGET_USD        = tostring(var.llm_monthly_budget_usd)
  })

  project_roles = [
    "roles/datastore.user",
    "roles/aiplatform.user",
  ]

  depends_on = [google_project_service.this]
}
