#!/usr/bin/env bash
# Builds the catalogue's Debian 12 (bookworm) image from Debian's packages (docs/debian-image.md):
#   disk.raw      a sparse raw disk (AMIFORGE_DEBIAN_DISK_SIZE, default 2G) that boots its own
#                 GRUB under BIOS and UEFI (scripts/make-boot-disk.sh); cloud-init grows the root
#                 partition to the volume's size at first boot
#   blocks/, blocks.json   the disk as the block store's 512 KiB blocks (scripts/disk-blocks.ts),
#                 which the catalogue hard-links into each region
#   build-key     the hash of everything the build is made of; a build whose key matches is kept
# into OUT_DIR (default: .amiforge-build/debian-12, git-ignored). Needs root (mmdebstrap's
# chroot) and scripts/install-qemu.sh's packages. The packages come from the machine's own apt
# configuration: its deb822 sources file is mmdebstrap's mirror argument, so no mirror address is
# written here (AMIFORGE_APT_SOURCES names another file).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

repo=$(cd "$(dirname "$0")/.." && pwd)
src="$repo/scripts/debian-image"
out=${1:-"$repo/.amiforge-build/debian-12"}
size=${AMIFORGE_DEBIAN_DISK_SIZE:-2G}
# Fixed identity: the same UUIDs in every build (each instance gets its own machine-id and keys).
root_uuid=d3b1a612-0000-4e12-8000-616d69666f72
cmdline='quiet mitigations=off no_timer_check console=ttyS0,115200'
packages=(systemd-sysv udev dbus linux-image-cloud-amd64 initramfs-tools cloud-init cloud-guest-utils
  openssh-server sudo ifupdown isc-dhcp-client iproute2 netbase e2fsprogs procps grub-pc
  ca-certificates less)

say() { echo "build-debian-image: $*" >&2; }
die() { say "$*"; exit 1; }
started=$(date +%s)

sources=${AMIFORGE_APT_SOURCES:-}
if [ -z "$sources" ]; then
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -qE '^Suites:.*\bbookworm\b' "$f" && { sources=$f; break; }
  done
fi
[ -n "$sources" ] && [ -f "$sources" ] || die "no deb822 apt sources file for bookworm under /etc/apt/sources.list.d/ (set AMIFORGE_APT_SOURCES)"

node=$repo/node_modules/.bin/node
[ -x "$node" ] || node=node
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

# The cache key: this script, the assembler, the block splitter, the image's files, the package
# list and the apt sources (a snapshot date there changes the packages).
key=$(cat "$0" "$repo/scripts/make-boot-disk.sh" "$repo/scripts/disk-blocks.ts" "$src"/* "$sources" \
  | { cat; echo "${packages[*]} $size $cmdline $root_uuid"; } | sha256sum | cut -d' ' -f1)
if [ -f "$out/build-key" ] && [ "$(cat "$out/build-key")" = "$key" ] && [ -f "$out/disk.raw" ] && [ -f "$out/blocks.json" ]; then
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "building the Debian image needs root (mmdebstrap's chroot)"
for tool in mmdebstrap sfdisk mkfs.ext4 mkfs.vfat mcopy grub-mkimage; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-qemu.sh"
done

work=$(mktemp -d "$repo/.amiforge-build/debian-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -f "$out/build-key"

say "mmdebstrap: Debian 12 from $(basename "$sources") ($(IFS=,; echo "${packages[*]}"))"
t=$(date +%s)
# Documentation and translations are not installed (their copyright files are): a smaller disk.
SOURCE_DATE_EPOCH=1704067200 ROOT_UUID=$root_uuid KERNEL_CMDLINE="ro $cmdline" mmdebstrap --quiet --variant=minbase \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --aptopt='Acquire::Languages "none"' --aptopt='Acquire::Retries "3"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="bash '$src/customize.sh' \"\$1\"" \
  bookworm "$work/rootfs" "$sources"
say "mmdebstrap took $(($(date +%s) - t)) s; root filesystem $(du -sh "$work/rootfs" | cut -f1)"

t=$(date +%s)
bash "$repo/scripts/make-boot-disk.sh" --rootfs "$work/rootfs" --output "$work/disk.raw" --size "$size" \
  --cmdline "ro $cmdline" --root-uuid "$root_uuid"
say "disk assembled in $(($(date +%s) - t)) s"
"$node" "$repo/scripts/disk-blocks.ts" "$work/disk.raw" "$out"
mv "$work/disk.raw" "$out/disk.raw"
echo "$key" >"$out/build-key"
say "done in $(($(date +%s) - started)) s: $out/disk.raw ($size, $(du -h "$out/disk.raw" | cut -f1) allocated), $(du -sh "$out/blocks" | cut -f1) of blocks"
