# Buckets: raw uploads (audio and transcripts for the scribe; patient data) and the
# function source archives. Both: uniform access, public access prevention enforced,
# versioning, deletion after the retention period.
locals {
  buckets = {
    uploads = {
      name           = "${var.project_id}-uploads"
      retention_days = var.upload_retention_days
      signed_put     = true
    }
    source = {
      name           = "${var.project_id}-functions-source"
      retention_days = var.source_retention_days
      signed_put     = false
    }
  }
}

resource "google_storage_bucket" "bucket" {
  for_each = local.buckets

  project                     = var.project_id
  name                        = each.value.name
  location                    = var.region # Eventarc storage triggers need the function's region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = merge(local.labels, { bucket = each.key })

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = each.value.retention_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  # Browsers upload with signed PUT URLs issued by the scribe function.
  dynamic "cors" {
    for_each = each.value.signed_put ? [1] : []
    content {
      origin          = distinct(concat([local.web_origin], var.cors_origins)) # the web app (web.tf) and other apps
      method          = ["PUT"]
      response_header = ["Content-Type", "Content-MD5", "x-goog-content-length-range", "x-goog-meta-medi-upload-token"] # the signed headers of scribe uploads
      max_age_seconds = 3600
    }
  }

  depends_on = [google_project_service.this]
}

# Eventarc storage triggers: the Cloud Storage service agent publishes object events.
resource "google_project_iam_member" "gcs_agent_pubsub_publisher" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}
