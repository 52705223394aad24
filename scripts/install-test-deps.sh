#!/usr/bin/env bash
# Installs the system tools the test suite drives: the aws CLI, boto3 and moto_server are on
# these machines already; this checks for them and installs what a later issue needs.
set -euo pipefail
missing=()
for tool in python3 aws; do command -v "$tool" >/dev/null || missing+=("$tool"); done
python3 -c 'import boto3' 2>/dev/null || missing+=(boto3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-deps: missing ${missing[*]}; installing from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq awscli python3-boto3 >/dev/null
fi
