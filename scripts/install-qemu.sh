#!/usr/bin/env bash
# Installs, from Debian's packages, what booting real guests needs: QEMU's system emulator and
# qemu-img/qemu-io, a static busybox (the guest's whole userland: no libc or loader in the image),
# e2fsprogs (mkfs.ext4 -d, debugfs), cpio and xz (the initramfs, the kernel's payload), socat
# (joins QEMU's guestfwd to the metadata responder's unix socket); and for the Debian image
# (scripts/build-debian-image.sh, scripts/make-boot-disk.sh): mmdebstrap, GRUB for BIOS and UEFI,
# OVMF (UEFI firmware for QEMU), dosfstools and mtools (the EFI system partition, unmounted),
# fdisk (sfdisk). Idempotent: when every package
# is installed it asks dpkg once and touches neither apt nor the network.
set -euo pipefail

packages=(qemu-system-x86 qemu-utils busybox-static e2fsprogs cpio xz-utils socat
  mmdebstrap grub-pc-bin grub-efi-amd64-bin ovmf dosfstools mtools fdisk)

installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null | awk '$2 == "installed" { print $1 }' || true)
missing=()
for p in "${packages[@]}"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-qemu: missing ${missing[*]}; installing them needs root (apt-get)" >&2
  exit 1
fi
echo "install-qemu: installing ${missing[*]} from Debian's packages" >&2
source "$(dirname "$0")/lib/apt.sh"
# --no-install-recommends: qemu-system-x86 would otherwise pull a desktop's worth of GUI libraries.
apt_install --no-install-recommends "${missing[@]}"
echo "install-qemu: done" >&2
