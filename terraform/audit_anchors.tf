# Anchors of the audit chains (shared/audit, anchors): every run of audit-seal verifies each
# clinic's chain from its latest anchor and writes the verified head (clinic, seq, hash,
# time) here as a new object; GET /v1/audit/verify (the auth function) starts from the
# latest anchor. The chain head lives in Firestore, which every function can write; the
# anchors live where no function can rewrite them:
#   - audit-seal may only create objects (roles/storage.objectCreator: no replace, no
#     delete; the code writes with if-generation-match=0), auth may only read them;
#     no other identity of the suite has a role on the bucket;
#   - a retention policy forbids deleting or replacing any object before it is
#     audit_anchor_retention_days old, for anyone, project owners included, once locked
#     (audit_anchor_retention_locked: locked in staging and prod; a locked policy cannot
#     be shortened or removed, and the bucket cannot be deleted while it holds objects);
#   - versioning keeps any replaced generation.
resource "google_storage_bucket" "audit_anchors" {
  project                     = var.project_id
  name                        = "${var.project_id}-audit-anchors"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = merge(local.labels, { bucket = "audit-anchors" })

  versioning {
    enabled = true
  }

  retention_policy {
    retention_period = var.audit_anchor_retention_days * 86400
    is_locked        = var.audit_anchor_retention_locked
  }

  depends_on = [google_project_service.this]
}

locals {
  # Every role on the anchors bucket (keys known before apply).
  audit_anchor_iam = {
    "audit-seal creates" = { role = "roles/storage.objectCreator", member = module.audit_seal.service_account_member }
    "audit-seal reads"   = { role = "roles/storage.objectViewer", member = module.audit_seal.service_account_member }
    "auth reads"         = { role = "roles/storage.objectViewer", member = module.auth.service_account_member }
  }
}

resource "google_storage_bucket_iam_member" "audit_anchors" {
  for_each = local.audit_anchor_iam

  bucket = google_storage_bucket.audit_anchors.name
  role   = each.value.role
  member = each.value.member
}
