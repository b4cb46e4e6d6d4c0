provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app         = "medi-os"
    environment = var.environment
    managed_by  = "terraform"
  }
}

data "google_project" "this" {
  project_id = var.project_id
}

data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}
