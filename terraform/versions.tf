# The root module of Medi OS: everything that exists in a Google Cloud project.
# State lives in a GCS bucket per environment; the bucket is given at init time
# (partial configuration): terraform init -backend-config=backends/<env>.gcs.tfbackend
terraform {
  required_version = ">= 1.11"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
  }
  backend "gcs" {}
}
