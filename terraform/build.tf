# How function sources become running functions: scripts/deploy zips the sources, this
# configuration uploads the archive (named by its SHA-256, so an unchanged tree is not
# rebuilt) and Cloud Build builds each function with a dedicated build account into a
# dedicated Artifact Registry repository.
resource "google_storage_bucket_object" "source" {
  bucket       = google_storage_bucket.bucket["source"].name
  name         = "functions/${var.source_sha256}.zip"
  source       = var.source_archive
  content_type = "application/zip"
}

resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "functions"
  description   = "Images of the Medi OS functions, built by Cloud Build."
  format        = "DOCKER"
  labels        = local.labels

  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 10
    }
  }
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "functions-build"
  display_name = "Function builds"
  description  = "Cloud Build account that builds the functions' images."
}

resource "google_project_iam_member" "build_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

resource "google_artifact_registry_repository_iam_member" "build_writer" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = google_storage_bucket.bucket["source"].name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}
