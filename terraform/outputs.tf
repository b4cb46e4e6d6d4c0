output "api_base_url" {
  description = "Base URL of the API behind the load balancer (clients and smoke tests use it)."
  value       = "https://${var.api_domain}"
}

output "api_ip_address" {
  description = "Address the API host name's DNS A record must point to."
  value       = google_compute_global_address.api.address
}

output "function_urls" {
  description = "Each function's own URL (HTTPS; only internal callers and the load balancer may reach them)."
  value       = { for k, f in local.functions : k => f.uri }
}

output "buckets" {
  description = "Bucket names by purpose."
  value       = { for k, b in google_storage_bucket.bucket : k => b.name }
}

output "topics" {
  description = "Pub/Sub topics by name, with their dead-letter topics."
  value       = { for k, t in local.topics : k => { topic = t.name, dead_letter_topic = t.dead_letter_topic } }
}

output "queues" {
  description = "Cloud Tasks queue ids and the function each one feeds."
  value       = { for k, q in local.queues : k => q.worker }
}

output "url_map_routes" {
  description = "Path prefixes the load balancer routes to each public function (the same table as scripts/stack/catalog.go)."
  value       = local.url_map_routes
}

output "default_http_function" {
  description = "Function receiving paths no prefix matches."
  value       = local.default_http_function
}

output "functions" {
  description = "Per function: trigger, public, service account, invoker, environment names, roles (for tests and audits)."
  value = {
    for k, f in local.functions : k => {
      name                  = f.name
      trigger               = f.trigger
      public                = f.public
      service_account_email = f.service_account_email
      service_account_id    = f.service_account_account_id
      invoker               = f.invoker_service_account_email
      own_invoker           = f.own_invoker
      invoker_members       = f.invoker_members
      environment_names     = f.environment_names
      project_roles         = f.project_roles
      secret_ids            = f.secret_ids
      ingress               = f.function.service_config[0].ingress_settings
      runtime               = f.function.build_config[0].runtime
      entry_point           = f.function.build_config[0].entry_point
      min_instances         = f.function.service_config[0].min_instance_count
    }
  }
}
