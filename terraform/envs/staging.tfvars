# Staging: production-shaped, smaller. Cloud Build deploys here first and smoke-tests.
project_id         = "medi-os-staging"
environment        = "staging"
region             = "europe-west1"
firestore_location = "eur3"
firestore_pitr     = true
api_domain         = "api.staging.medi-os.example"
cors_origins       = ["https://app.staging.medi-os.example"]

auth_authorized_domains = ["app.staging.medi-os.example"]

log_level             = "info"
http_min_instances    = 0
http_max_instances    = 10
scribe_retention_days = 14
upload_retention_days = 21
alert_emails          = ["platform-staging@medi-os.example"]

smtp_host     = "smtp-relay.medi-os.example"
smtp_username = "medi-os-staging"
mail_from     = "Medi OS <no-reply@staging.medi-os.example>"
