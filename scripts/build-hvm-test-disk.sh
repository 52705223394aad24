#!/usr/bin/env bash
# Builds a small HVM test disk: the base image (scripts/build-base-image.sh) on a disk that boots
# through its own boot loader under BIOS and UEFI (scripts/make-boot-disk.sh: GRUB in the MBR gap
# and on an EFI system partition), for the QEMU driver's firmware-boot tests. The root filesystem
# is the base image's, plus Debian's compressed kernel (GRUB loads a bzImage, not the vmlinux the
# PV boot uses) and the base image's initramfs in /boot. Root is /dev/vda2, mounted read-write.
#
#   build-hvm-test-disk.sh [OUT_DIR]     -> OUT_DIR/disk.raw (default .amiforge-build/hvm-test-disk)
#
# Idempotent: does nothing when disk.raw is newer than its inputs. Needs scripts/install-qemu.sh's
# packages (grub-pc-bin, grub-efi-amd64-bin, dosfstools, mtools, fdisk, e2fsprogs).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
repo=$(cd "$(dirname "$0")/.." && pwd)
build="$repo/.amiforge-build"
out=${1:-"$build/hvm-test-disk"}
base="$build/base-image"
say() { echo "build-hvm-test-disk: $*" >&2; }

bash "$repo/scripts/build-base-image.sh"
deb=$(ls "$build"/cache/linux-image-*.deb | sort -V | tail -n 1)
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
inputs=("$0" "$repo/scripts/make-boot-disk.sh" "$base/.built" "$deb")
if [ -f "$out/disk.raw" ] && [ -z "$(find "${inputs[@]}" -newer "$out/disk.raw" -print -quit)" ]; then exit 0; fi

work=$(mktemp -d "$build/hvm-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "building $out/disk.raw"
# The base image's root filesystem, read back without mounting.
mkdir "$work/rootfs"
debugfs -R "rdump / $work/rootfs" "$base/rootfs.raw" >/dev/null 2>&1
rm -rf "$work/rootfs/lost+found"
kver=$(cat "$base/kernel-version")
mkdir -p "$work/rootfs/boot" "$work/kernel"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/kernel" "./boot/vmlinuz-$kver"
cp "$work/kernel/boot/vmlinuz-$kver" "$work/rootfs/boot/vmlinuz-$kver"
cp "$base/initramfs.cpio" "$work/rootfs/boot/initrd.img-$kver"
# The base initramfs takes root= as a device path (no UUID lookup): the later root= wins.
bash "$repo/scripts/make-boot-disk.sh" --rootfs "$work/rootfs" --output "$work/disk.raw" --size 160M \
  --cmdline 'root=/dev/vda2 console=ttyS0 quiet no_timer_check'
mv "$work/disk.raw" "$out/disk.raw"
say "done: $out/disk.raw"
