# The risk ML platform on GCP: GKE cluster (CPU + GPU pools) running KServe, Kubeflow
# Pipelines, MLflow and Prometheus; buckets for features, models and GX results; Redis
# as Feast online store; Cloud SQL as MLflow backend store.

terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.8"
    }
  }
  backend "gcs" {
    bucket = "northbank-risk-tfstate"
    prefix = "fraud-platform"
  }
}

provider "google" {
  project = var.project
  region  = var.region
}

resource "google_container_cluster" "risk_ml" {
  name                     = "risk-ml-${var.environment}"
  location                 = var.region
  remove_default_node_pool = true
  initial_node_count       = 1
  networking_mode          = "VPC_NATIVE"
  workload_identity_config {
    workload_pool = "${var.project}.svc.id.goog"
  }
  release_channel {
    channel = "REGULAR"
  }
}

resource "google_container_node_pool" "general" {
  name       = "general"
  cluster    = google_container_cluster.risk_ml.id
  node_count = 3
  autoscaling {
    min_node_count = 3
    max_node_count = 30
  }
  node_config {
    machine_type    = "n2-standard-16"
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }
}

resource "google_container_node_pool" "training_gpu" {
  name    = "training-gpu"
  cluster = google_container_cluster.risk_ml.id
  autoscaling {
    min_node_count = 0
    max_node_count = 4
  }
  node_config {
    machine_type = "g2-standard-16"
    guest_accelerator {
      type  = "nvidia-l4"
      count = 1
      gpu_driver_installation_config {
        gpu_driver_version = "LATEST"
      }
    }
    taint {
      key    = "nvidia.com/gpu"
      value  = "present"
      effect = "NO_SCHEDULE"
    }
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
  }
}

resource "google_service_account" "nodes" {
  account_id   = "risk-ml-nodes-${var.environment}"
  display_name = "GKE nodes of the risk ML platform"
}

resource "google_storage_bucket" "ml" {
  for_each                    = toset(["features", "mlflow-artifacts", "gx", "feast"])
  name                        = "risk-ml-${each.key}-${var.environment}"
  location                    = "EU"
  uniform_bucket_level_access = true
  versioning {
    enabled = true
  }
}

resource "google_redis_instance" "feast_online" {
  name           = "feast-online-${var.environment}"
  tier           = "STANDARD_HA"
  memory_size_gb = 16
  region         = var.region
  auth_enabled   = true
}

resource "google_sql_database_instance" "mlflow" {
  name             = "mlflow-${var.environment}"
  database_version = "POSTGRES_16"
  region           = var.region
  settings {
    tier = "db-custom-2-7680"
    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
    }
    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network
    }
  }
  deletion_protection = true
}
