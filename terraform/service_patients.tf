# patients: demographics, MRN, allergies, medications, problems.
module "patients" {
  source = "./modules/function"

  name          = "patients"
  description   = "Patient records of a clinic"
  deployment    = local.function_deployment
  trigger       = "http"
  path_prefixes = local.routes["patients"]

  min_instances = var.http_min_instances
  max_instances = var.http_max_instances
  labels        = local.labels

  environment = merge(local.common_env, local.http_env)

  project_roles = [
    "roles/datastore.user",
    "roles/firebaseauth.viewer", # revocation check of ID tokens
  ]

  depends_on = [google_project_service.this]
}
