# summarize: serves the cached, cited history summaries; a missing, stale or forcibly
# refreshed one is requested from the summarize worker through the summaries queue.
module "summarize" {
  source = "./modules/function"

  name          = "summarize"
  description   = "Patient history summaries"
  deployment    = local.function_deployment
  trigger       = "http"
  path_prefixes = local.routes["summarize"]

  min_instances = var.http_min_instances
  max_instances = var.http_max_instances
  labels        = local.labels

  environment = merge(local.common_env, local.http_env, local.tasks_env, {
    MEDI_FUNCTION_URL_SUMMARIZE_WORKER = local.function_url["summarize-worker"]
    # The budget GET /v1/summaries/usage reports: the one summarize-worker enforces.
    MEDI_LLM_MONTHLY_BUDGET_USD = tostring(var.llm_monthly_budget_usd)
  })

  project_roles = [
    "roles/datastore.user",
    "roles/firebaseauth.viewer", # revocation check of ID tokens
  ]

  depends_on = [google_project_service.this]
}

resource "google_cloud_tasks_queue_iam_member" "summarize_enqueue_summaries" {
  project  = var.project_id
  location = google_cloud_tasks_queue.queue["summaries"].location
  name     = google_cloud_tasks_queue.queue["summaries"].name
  role     = "roles/cloudtasks.enqueuer"
  member   = module.summarize.service_account_member
}

resource "google_service_account_iam_member" "summarize_act_as_tasks_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = module.summarize.service_account_member
}
