variable "project_id" {
  description = "Google Cloud project of the environment."
  type        = string
}

variable "environment" {
  description = "Tier: dev, staging or prod (MEDI_ENV of every function)."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "region" {
  description = "Region of the functions, queues, buckets and scheduler."
  type        = string
  default     = "europe-west1"
}

variable "firestore_location" {
  description = "Firestore location (a region or a multi-region such as eur3)."
  type        = string
  default     = "eur3"
}

variable "firestore_pitr" {
  description = "Point-in-time recovery (7 days) for Firestore; always on in prod."
  type        = bool
  default     = true
}

variable "firestore_backup_retention_days" {
  description = "Days each daily Firestore backup is kept (0: no scheduled backups; prod always keeps at least 14)."
  type        = number
  default     = 14

  validation {
    condition     = var.firestore_backup_retention_days >= 0 && var.firestore_backup_retention_days <= 98
    error_message = "Firestore keeps a scheduled backup for at most 14 weeks (98 days)."
  }
}

variable "api_domain" {
  description = "Host name of the public API (DNS A record to output api_ip_address; the managed certificate is issued for it)."
  type        = string
}

variable "cors_origins" {
  description = "Browser origins (scheme://host[:port]) of the web apps: MEDI_CORS_ORIGINS and the uploads bucket's CORS for signed PUTs."
  type        = list(string)
  validation {
    condition     = alltrue([for o in var.cors_origins : can(regex("^https?://[a-z0-9.-]+(:[0-9]+)?$", o))])
    error_message = "cors_origins are origins: scheme://host[:port], no path, no wildcard."
  }
}

variable "auth_project_id" {
  description = "Project of the Identity Platform tenant that issues staff ID tokens, when it is not project_id (MEDI_AUTH_PROJECT). Empty: project_id."
  type        = string
  default     = ""
}

variable "auth_authorized_domains" {
  description = "Domains allowed for Identity Platform sign-in redirects (the web apps' hosts)."
  type        = list(string)
  default     = []
}

variable "release" {
  description = "Build stamped on every function (MEDI_VERSION), e.g. the commit SHA or Cloud Build id. Set by scripts/deploy."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,63}$", var.release))
    error_message = "release must be 1-63 letters, digits, dots, underscores or hyphens."
  }
}

variable "source_archive" {
  description = "Local path of the zip of the function sources (go.mod, functions.go, functions/, shared/) uploaded to the source bucket. Built by scripts/deploy."
  type        = string
}

variable "source_sha256" {
  description = "SHA-256 (hex) of source_archive; the object name, so unchanged sources are not rebuilt. Set by scripts/deploy."
  type        = string
  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.source_sha256))
    error_message = "source_sha256 must be 64 lower-case hex digits."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of every function: debug, info, warn or error."
  type        = string
  default     = "info"
  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "http_min_instances" {
  description = "Instances kept warm per public HTTP function (cold starts on the clinical path)."
  type        = number
  default     = 0
}

variable "http_max_instances" {
  description = "Maximum instances per public HTTP function."
  type        = number
  default     = 20
}

variable "scribe_retention_days" {
  description = "Days after a note's approval that the retention function deletes its raw upload and transcript, for clinics without their own setting (MEDI_SCRIBE_RETENTION_DAYS)."
  type        = number
  default     = 30
}

variable "upload_retention_days" {
  description = "Backstop: days after which the uploads bucket deletes any object, whatever the retention function did. Longer than scribe_retention_days; clinics cannot keep uploads longer than this."
  type        = number
  default     = 45
  validation {
    condition     = var.upload_retention_days >= 1 && var.upload_retention_days <= 365
    error_message = "upload_retention_days must be between 1 and 365."
  }
  validation {
    condition     = var.upload_retention_days > var.scribe_retention_days
    error_message = "upload_retention_days (bucket backstop) must be longer than scribe_retention_days (the retention function's default)."
  }
}

variable "scribe_drafter" {
  description = "How the scribe worker drafts notes: gemini (Vertex AI, in var.region) or deterministic (no model; the fallback)."
  type        = string
  default     = "gemini"
  validation {
    condition     = contains(["gemini", "deterministic"], var.scribe_drafter)
    error_message = "scribe_drafter must be gemini or deterministic."
  }
}

variable "gemini_model" {
  description = "Gemini model on Vertex AI for SOAP drafts and summaries (MEDI_GEMINI_MODEL). Change it together with the prices below, following docs/runbooks/model-updates.md."
  type        = string
  default     = "gemini-2.5-flash"
  validation {
    condition     = can(regex("^gemini-[a-z0-9.-]+$", var.gemini_model))
    error_message = "gemini_model must be a Gemini model id such as gemini-2.5-flash."
  }
}

variable "gemini_price_input_per_mtok" {
  description = "US dollars per million input tokens of var.gemini_model: the recorded costUsd and the summary budget depend on it."
  type        = number
  default     = 0.30
  validation {
    condition     = var.gemini_price_input_per_mtok > 0
    error_message = "gemini_price_input_per_mtok must be positive (a zero price would disable the budget cap silently)."
  }
}

variable "gemini_price_output_per_mtok" {
  description = "US dollars per million output tokens of var.gemini_model."
  type        = number
  default     = 2.50
  validation {
    condition     = var.gemini_price_output_per_mtok > 0
    error_message = "gemini_price_output_per_mtok must be positive (a zero price would disable the budget cap silently)."
  }
}

variable "speech_model" {
  description = "Speech-to-Text v2 model for audio uploads (e.g. chirp_2, medical_conversation); empty: audio uploads fail with speech_not_configured, transcripts still work."
  type        = string
  default     = ""
  validation {
    condition     = var.speech_model == "" || can(regex("^[a-z0-9_]{2,40}$", var.speech_model))
    error_message = "speech_model is a Speech-to-Text v2 model id (chirp_2, chirp_3, long, medical_conversation, ...) or empty."
  }
}

variable "speech_location" {
  description = "Location of the Speech-to-Text v2 recognizer (projects/<project>/locations/<location>/recognizers/_): the model must be available there (chirp_2: us-central1, europe-west4 or asia-southeast1)."
  type        = string
  default     = "global"
  validation {
    condition = contains(["global", "us", "eu", "us-central1", "europe-west2", "europe-west3", "europe-west4", "asia-northeast1",
    "asia-south1", "asia-southeast1", "northamerica-northeast1"], var.speech_location)
    error_message = "speech_location is a Speech-to-Text v2 location: global, us, eu, us-central1, europe-west2, europe-west3, europe-west4, asia-northeast1, asia-south1, asia-southeast1 or northamerica-northeast1."
  }
  validation {
    condition     = !contains(["chirp", "chirp_2"], var.speech_model) || contains(["us-central1", "europe-west4", "asia-southeast1"], var.speech_location)
    error_message = "chirp and chirp_2 run only in us-central1, europe-west4 and asia-southeast1: set speech_location to one of them."
  }
}

variable "speech_language" {
  description = "BCP-47 language of the consultations (the medical models transcribe en-US only)."
  type        = string
  default     = "en-US"
  validation {
    condition     = can(regex("^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", var.speech_language))
    error_message = "speech_language is a BCP-47 language tag such as en-US."
  }
  validation {
    condition     = !startswith(var.speech_model, "medical_") || var.speech_language == "en-US"
    error_message = "The medical speech models (medical_conversation, medical_dictation) transcribe en-US only."
  }
}

variable "source_retention_days" {
  description = "Days source archives are kept in the source bucket (Terraform re-uploads a missing current archive)."
  type        = number
  default     = 180
}

variable "noncurrent_retention_days" {
  description = "Days a deleted or overwritten object version is kept (versioning) before it is gone for good."
  type        = number
  default     = 7
}

variable "retention_schedule" {
  description = "Cron schedule of the retention function."
  type        = string
  default     = "17 2 * * *"
}

variable "scribe_stale_after" {
  description = "A scribe session unchanged this long in uploaded, transcribing or drafting gets its job again (scribe-sweeper); longer than the worker's timeout (9 min)."
  type        = string
  default     = "10m"

  validation {
    condition     = can(regex("^[0-9]+m$", var.scribe_stale_after)) && tonumber(trimsuffix(var.scribe_stale_after, "m")) >= 10
    error_message = "scribe_stale_after is whole minutes (\"10m\"), at least 10m: a healthy worker may spend 9 minutes in one status."
  }
}

variable "scribe_give_up_after" {
  description = "A scribe session uploaded this long ago without a draft fails with processing_timed_out (scribe-sweeper): the bound on every upload's processing."
  type        = string
  default     = "30m"

  validation {
    condition     = can(regex("^[0-9]+m$", var.scribe_give_up_after))
    error_message = "scribe_give_up_after is whole minutes (\"30m\")."
  }
}

variable "scribe_abandon_after" {
  description = "A scribe session still awaiting its upload this long after it was made fails with upload_not_received (scribe-sweeper). At least 30 minutes: the upload link is valid 15 minutes and an upload started through it must be able to finish."
  type        = string
  default     = "120m"

  validation {
    condition     = can(regex("^[0-9]+m$", var.scribe_abandon_after)) && try(tonumber(trimsuffix(var.scribe_abandon_after, "m")) >= 30, false)
    error_message = "scribe_abandon_after is whole minutes, at least 30 (\"120m\")."
  }
}

variable "time_zone" {
  description = "Time zone of scheduled jobs."
  type        = string
  default     = "Europe/Brussels"
}

variable "auth_rate_limit" {
  description = "Requests per client IP per minute allowed on /v1/auth/* before Cloud Armor answers 429."
  type        = number
  default     = 60
}

variable "sessions_rate_limit" {
  description = "Sign-in requests (/v1/sessions) per client IP per minute before the client is banned for 10 minutes."
  type        = number
  default     = 20
}

variable "waf_preview" {
  description = "Run the preconfigured WAF rules in preview (log only). Use briefly to tune exclusions, never as the steady state of prod."
  type        = bool
  default     = false
}

variable "alert_emails" {
  description = "E-mail addresses notified by the alert policies."
  type        = list(string)
  default     = []
}

variable "runbook_base_url" {
  description = "Base URL of docs/runbooks in the repository browser; alert documentation links to <base>/<alert>.md."
  type        = string
  default     = "https://github.com/medi-os/medi/blob/main/docs/runbooks"
}

variable "task_backlog_threshold" {
  description = "Tasks waiting in a queue for 15 minutes before the task-queue-backlog alert fires."
  type        = number
  default     = 100
}

variable "error_rate_threshold" {
  description = "Fraction of 5xx responses of a function over 5 minutes that fires the api-5xx-rate alert."
  type        = number
  default     = 0.05
}

variable "smtp_host" {
  description = "SMTP relay the mailer sends through (MEDI_SMTP_HOST). Required in every environment, dev included: the dev mail outbox exists in the local stack only."
  type        = string
  validation {
    condition     = var.smtp_host != ""
    error_message = "smtp_host is required: deployed environments (dev included) send mail through the relay; the dev outbox is local only."
  }
}

variable "smtp_port" {
  description = "SMTP relay port (STARTTLS)."
  type        = number
  default     = 587
}

variable "smtp_username" {
  description = "SMTP relay account."
  type        = string
  default     = ""
}

variable "smtp_password_version" {
  description = "Pinned version of the smtp-password secret the mailer reads (docs/deployment.md, \"Secrets rotation\")."
  type        = string
  default     = "1"
}

variable "mail_from" {
  description = "From header of staff mail."
  type        = string
  default     = "Medi OS <no-reply@medi-os.example>"
}

variable "summary_engine" {
  description = "How the summarize worker builds summaries: gemini (Vertex AI, in var.region) or deterministic (no model; the fallback)."
  type        = string
  default     = "gemini"
  validation {
    condition     = contains(["gemini", "deterministic"], var.summary_engine)
    error_message = "summary_engine must be gemini or deterministic."
  }
}

variable "llm_monthly_budget_usd" {
  description = "Default monthly model spend cap per clinic in US dollars, shared by the scribe's drafts and the summaries (one ledger; clinics may set their own llmMonthlyBudgetUsd); 0: no cap."
  type        = number
  default     = 50
  validation {
    condition     = var.llm_monthly_budget_usd >= 0
    error_message = "llm_monthly_budget_usd must not be negative."
  }
}

variable "audit_anchor_retention_days" {
  description = "Days during which no one can delete or replace an anchor of the audit chains (the anchors bucket's retention policy); at least the audit trail's own retention."
  type        = number
  default     = 2555 # 7 years

  validation {
    condition     = var.audit_anchor_retention_days >= 1 && var.audit_anchor_retention_days <= 36500
    error_message = "audit_anchor_retention_days must be between 1 and 36500."
  }
}

variable "audit_anchor_retention_locked" {
  description = "Lock the anchors bucket's retention policy (irreversible: it can then never be shortened or removed). True in staging and prod."
  type        = bool
  default     = true
}
