# Development project: cheap (no warm instances), no point-in-time recovery. Reached
# through the load balancer like staging and prod; mail goes through the relay.
project_id         = "medi-os-dev"
environment        = "dev"
region             = "europe-west1"
firestore_location = "eur3"
firestore_pitr     = false
api_domain         = "api.dev.medi-os.example"
cors_origins       = ["https://app.dev.medi-os.example", "http://localhost:5173"]

auth_authorized_domains = ["app.dev.medi-os.example", "localhost"]

log_level             = "debug"
http_min_instances    = 0
http_max_instances    = 5
scribe_retention_days = 7
upload_retention_days = 14
scribe_drafter        = "deterministic"
summary_engine        = "deterministic"
alert_emails          = []
smtp_host             = "smtp-relay.medi-os.example"
smtp_username         = "medi-os-dev"

# The audit anchors' retention is not locked in dev, so that the project can be torn down.
audit_anchor_retention_days   = 7
audit_anchor_retention_locked = false
