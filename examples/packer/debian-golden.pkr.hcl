# A golden Debian 12 image, built by Packer's amazon-ebs builder exactly as against AWS; only the
# endpoint settings (the `amiforge` variables) differ. Used by test/qemu/packer.test.ts.
#
#   packer build -var endpoint=http://127.0.0.1:4566 examples/packer/debian-golden.pkr.hcl
variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:4566"
}

variable "share_with" {
  type    = string
  default = "222222222222"
}

variable "name_suffix" {
  type    = string
  default = ""
}

source "amazon-ebs" "debian" {
  # amiforge: the endpoint, and no checks that need AWS itself.
  custom_endpoint_ec2        = var.endpoint
  skip_credential_validation = true
  skip_metadata_api_check    = true
  skip_region_validation     = true

  region        = "us-east-1"
  instance_type = "t3.micro"
  source_ami_filter {
    filters = {
      name                = "debian-12-amd64-*"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["136693071363"]
    most_recent = true
  }
  ssh_username = "admin"
  ssh_timeout  = "15m"

  ami_name        = "golden-debian-12-${var.name_suffix}{{timestamp}}"
  ami_description = "Debian 12 with the team's baseline"
  ami_regions     = ["us-west-2"]
  ami_users       = [var.share_with]
  tags = {
    Name = "golden-debian-12"
    Base = "{{ .SourceAMIName }}"
  }
}

build {
  sources = ["source.amazon-ebs.debian"]

  provisioner "shell" {
    inline = [
      "echo \"provisioned by packer on $(hostname)\" | sudo tee /etc/golden-release",
      "sudo rm -f /home/admin/.bash_history",
    ]
  }
}
