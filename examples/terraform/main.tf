# Runs offline: only the built-in terraform_data resource and outputs.
variable "app_version" {
  type = string
}

variable "environment" {
  type    = string
  default = "dev"
}

variable "replicas" {
  type    = number
  default = 1
}

resource "terraform_data" "release" {
  input = {
    version     = var.app_version
    environment = var.environment
    replicas    = var.replicas
  }
}

output "version" {
  value = terraform_data.release.output.version
}

output "environment" {
  value = terraform_data.release.output.environment
}

output "replicas" {
  value = terraform_data.release.output.replicas
}
