variable "project" {
  type        = string
  description = "GCP project of the risk ML platform"
  default     = "risk-ml-prod"
}

variable "region" {
  type    = string
  default = "europe-west3"
}

variable "environment" {
  type        = string
  description = "staging or production"
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production"
  }
}

variable "network" {
  type        = string
  description = "Self link of the shared VPC the platform runs in"
}
