variable "name" {
  description = "Function name; also its entry point (the name it is registered under in functions.go) and the Cloud Run service name."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,25}[a-z0-9]$", var.name))
    error_message = "name must be 2-27 lower-case letters, digits or hyphens (service account ids add a 3-letter prefix and are limited to 30)."
  }
}

variable "description" {
  description = "What the function does (shown in the console)."
  type        = string
}

variable "deployment" {
  description = "Where and from what the function is built and run: project (id and number), region, source archive, build account (projects/P/serviceAccounts/EMAIL), Artifact Registry repository (projects/P/locations/L/repositories/R) and runtime. The same for every function of an environment."
  type = object({
    project_id            = string
    project_number        = string
    region                = string
    source_bucket         = string
    source_object         = string
    build_service_account = string
    docker_repository     = string
    runtime               = optional(string, "go126")
  })
}

variable "trigger" {
  description = "How the function is invoked: http (public, behind the load balancer), pubsub (push subscription with OIDC), tasks (Cloud Tasks HTTP target with OIDC), storage (Eventarc, object finalized) or scheduler (Cloud Scheduler with OIDC)."
  type        = string
  validation {
    condition     = contains(["http", "pubsub", "tasks", "storage", "scheduler"], var.trigger)
    error_message = "trigger must be one of http, pubsub, tasks, storage, scheduler."
  }
}

variable "path_prefixes" {
  description = "URL path prefixes the load balancer routes to this function (http functions only); a prefix matches itself and everything below it."
  type        = list(string)
  default     = []
  validation {
    condition     = (var.trigger == "http") == (length(var.path_prefixes) > 0)
    error_message = "http functions need path_prefixes; other triggers must not have any."
  }
  validation {
    condition     = alltrue([for p in var.path_prefixes : can(regex("^/v1(/[a-z0-9-]+)+$", p))])
    error_message = "path prefixes look like /v1/name (no trailing slash, no wildcard)."
  }
}

variable "environment" {
  description = "Plain environment variables. Every name must be read by the code's config structs (checked by terraform/tests)."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Environment variables whose value is a secret:// reference to a pinned Secret Manager version (resolved by shared/config); the function's account may read exactly these secrets."
  type = map(object({
    secret_id = string # projects/P/secrets/S
    version   = string
  }))
  default = {}
  validation {
    condition     = alltrue([for s in values(var.secrets) : can(regex("^[1-9][0-9]*$", s.version))])
    error_message = "secret versions are pinned: a version number, never latest."
  }
}

variable "project_roles" {
  description = "Project-level roles of the function's own service account (only roles that cannot be granted on a narrower resource)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for r in var.project_roles : !contains(["roles/owner", "roles/editor", "roles/viewer"], r)])
    error_message = "basic roles are never granted to a function."
  }
}

variable "min_instances" {
  description = "Minimum instances kept warm."
  type        = number
  default     = 0
}

variable "max_instances" {
  description = "Maximum instances."
  type        = number
  default     = 10
}

variable "concurrency" {
  description = "Concurrent requests per instance."
  type        = number
  default     = 40
}

variable "memory" {
  description = "Memory per instance."
  type        = string
  default     = "512Mi"
}

variable "cpu" {
  description = "vCPUs per instance (1 or more lets one instance serve concurrent requests)."
  type        = string
  default     = "1"
}

variable "timeout_seconds" {
  description = "Request timeout."
  type        = number
  default     = 60
}

variable "storage_trigger_bucket" {
  description = "Bucket whose object-finalized events invoke the function (trigger = storage)."
  type        = string
  default     = null
  validation {
    condition     = (var.trigger == "storage") == (var.storage_trigger_bucket != null)
    error_message = "storage_trigger_bucket is required for, and only for, trigger = storage."
  }
}

variable "schedule" {
  description = "Cloud Scheduler job (trigger = scheduler): cron, time zone, path and JSON body of the POST."
  type = object({
    cron      = string
    time_zone = string
    path      = optional(string, "/")
    body      = optional(string, "{}")
  })
  default = null
  validation {
    condition     = (var.trigger == "scheduler") == (var.schedule != null)
    error_message = "schedule is required for, and only for, trigger = scheduler."
  }
}

variable "invoker_service_account_email" {
  description = "trigger = tasks only: the Cloud Tasks invoker account every task worker accepts (MEDI_TASKS_INVOKER_SA; producers sign task OIDC tokens as it). Other internal triggers get an invoker account of their own."
  type        = string
  default     = null
  validation {
    condition     = (var.trigger == "tasks") == (var.invoker_service_account_email != null)
    error_message = "invoker_service_account_email is required for, and only for, trigger = tasks."
  }
}

variable "labels" {
  description = "Labels for every resource of the function."
  type        = map(string)
  default     = {}
}
