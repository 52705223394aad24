#!/usr/bin/env bash
# Installs the system tools the test suite drives: the aws CLI, boto3 and moto_server are on
# these machines already; this checks for them and installs what a later issue needs.
set -euo pipefail
missing=()
packages=()
for tool in python3 aws; do command -v "$tool" >/dev/null || { missing+=("$tool"); packages+=(awscli); }; done
python3 -c 'import boto3' 2>/dev/null || { missing+=(boto3); packages+=(python3-boto3); }
# qemu-img: `amiforge snapshot upload` converts qcow2/vmdk images with it (test/wire/snapshot-cli.test.ts).
command -v qemu-img >/dev/null || { missing+=(qemu-img); packages+=(qemu-utils); }
# ssh-keygen: the key pair tests check that keys from CreateKeyPair work with OpenSSH (test/wire/lifecycle-keypairs-sdk.test.ts).
command -v ssh-keygen >/dev/null || { missing+=(ssh-keygen); packages+=(openssh-client); }
# packer (Debian's 1.6.6, amazon-ebs built in): test/qemu/packer.test.ts builds a golden image with it.
command -v packer >/dev/null || { missing+=(packer); packages+=(packer); }
# Chromium: test/browser drives the web console in it, headless, through playwright-core.
command -v chromium >/dev/null || { missing+=(chromium); packages+=(chromium); }
# PostgreSQL's server binaries: tests start throwaway clusters with scripts/postgres.sh.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { missing+=(postgresql); packages+=(postgresql); }
# Ceph's monitor, manager, OSD and RADOS Gateway: the S3 server the object-store tests use (scripts/ceph-rgw.sh).
for p in ceph-mon ceph-mgr ceph-osd radosgw ceph-common; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || { missing+=("$p"); packages+=("$p"); }
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-deps: missing ${missing[*]}; installing from Debian's packages" >&2
  source "$(dirname "$0")/lib/apt.sh"
  apt_install --no-install-recommends "${packages[@]}"
fi
# QEMU, busybox and the image tools: src/adapters/qemu's tests build a guest image and boot it.
bash "$(dirname "$0")/install-qemu.sh"
# The base image (idempotent, 10-20 s once the kernel package is cached): the QEMU tests boot it and
# the default catalogue registers it as amiforge-minimal-linux, which the catalogue tests expect.
bash "$(dirname "$0")/build-base-image.sh"
# The Debian 12 image (cached: skipped when built from the same scripts and apt sources; 4-10 min
# the first time): the catalogue's debian-12-amd64 image boots from it.
bash "$(dirname "$0")/build-debian-image.sh"
