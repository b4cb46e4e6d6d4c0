# The root module of Medi OS. The resources arrive with the Terraform issue (functions,
# topics, queues, Firestore, buckets, load balancer, alerts); this file pins the toolchain.
terraform {
  required_version = ">= 1.11"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
  }
}
