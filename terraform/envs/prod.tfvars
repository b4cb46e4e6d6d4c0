# Production. Deployed only from a saved plan whose summary was approved (scripts/deploy).
project_id         = "medi-os-prod"
environment        = "prod"
region             = "europe-west1"
firestore_location = "eur3"
firestore_pitr     = true
api_domain         = "api.medi-os.example"
cors_origins       = ["https://app.medi-os.example"]

auth_authorized_domains = ["app.medi-os.example"]

log_level             = "info"
http_min_instances    = 1
http_max_instances    = 50
scribe_retention_days = 30
upload_retention_days = 45
alert_emails          = ["oncall@medi-os.example"]

smtp_host     = "smtp-relay.medi-os.example"
smtp_username = "medi-os-prod"
mail_from     = "Medi OS <no-reply@medi-os.example>"

# Pinned here so a model change is a reviewed diff with its prices (docs/runbooks/model-updates.md).
gemini_model                 = "gemini-2.5-flash"
gemini_price_input_per_mtok  = 0.30
gemini_price_output_per_mtok = 2.50
