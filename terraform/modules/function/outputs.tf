output "name" {
  description = "Function (and Cloud Run service) name."
  value       = google_cloudfunctions2_function.this.name
}

output "uri" {
  description = "HTTPS URL of the function's Cloud Run service; also the OIDC audience its invokers use."
  value       = google_cloudfunctions2_function.this.service_config[0].uri
}

output "url" {
  description = "Deterministic Cloud Run URL (https://NAME-PROJECT_NUMBER.REGION.run.app); the audience the code expects of OIDC tokens."
  value       = local.url
}

output "trigger" {
  description = "How the function is invoked."
  value       = var.trigger
}

output "public" {
  description = "Whether anyone may invoke the function (http functions behind the load balancer)."
  value       = local.public
}

output "path_prefixes" {
  description = "Path prefixes the load balancer routes to this function."
  value       = var.path_prefixes
}

output "service_account_email" {
  description = "The function's own runtime service account."
  value       = google_service_account.runtime.email
}

output "service_account_account_id" {
  description = "Account id (the part before @) of the runtime service account."
  value       = google_service_account.runtime.account_id
}

output "service_account_member" {
  description = "IAM member string of the runtime service account."
  value       = google_service_account.runtime.member
}

output "service_account_id" {
  description = "Resource id of the runtime service account (for service-account-level grants such as signBlob on itself)."
  value       = google_service_account.runtime.name
}

output "invoker_service_account_email" {
  description = "Account whose OIDC tokens may invoke the function (null for public functions)."
  value       = local.internal ? local.invoker : null
}

output "invoker_service_account_id" {
  description = "Resource id of the function's own invoker account (null for public functions and task workers)."
  value       = local.own_invoker ? google_service_account.invoker[0].name : null
}

output "own_invoker" {
  description = "Whether the function has an invoker account of its own (pubsub, storage, scheduler)."
  value       = local.own_invoker
}

output "invoker_members" {
  description = "Members granted roles/run.invoker on the function."
  value       = concat(google_cloud_run_v2_service_iam_member.public[*].member, google_cloud_run_v2_service_iam_member.invoker[*].member)
}

output "environment_names" {
  description = "Names of the environment variables the function gets (plain and secret references)."
  value       = sort(keys(local.environment))
}

output "secret_ids" {
  description = "Secrets the function's account may read."
  value       = sort([for s in values(var.secrets) : s.secret_id])
}

output "project_roles" {
  description = "Project-level roles of the runtime service account."
  value       = sort(var.project_roles)
}

output "function" {
  description = "The google_cloudfunctions2_function resource (for tests)."
  value       = google_cloudfunctions2_function.this
}

output "scheduler_job" {
  description = "The Cloud Scheduler job (trigger = scheduler), else null."
  value       = one(google_cloud_scheduler_job.this[*])
}
