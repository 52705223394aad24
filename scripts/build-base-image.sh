#!/usr/bin/env bash
# Builds amiforge-minimal-linux, the small guest that proves instances really boot, from Debian's
# packages only (see docs/base-image.md):
#   vmlinux          Debian's kernel, uncompressed (decompressing vmlinuz under TCG costs 3-4 s)
#   initramfs.cpio   busybox + the virtio/ext4 modules, and an init that mounts the root disk
#   rootfs.raw       a raw ext4 disk image: busybox and the boot scripts in scripts/base-image/
# into OUT_DIR (default: .amiforge-build/base-image, git-ignored). Idempotent: does nothing when
# the outputs are newer than every input. Needs scripts/install-qemu.sh's packages.
#
# Environment: AMIFORGE_KERNEL_PACKAGE (default: the one Debian's linux-image-amd64 depends on;
# once fetched, the cached one is reused), AMIFORGE_ROOTFS_MIB (default 64).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
src="$repo/scripts/base-image"
build="$repo/.amiforge-build"
out=${1:-"$build/base-image"}
cache="$build/cache"
rootfs_mib=${AMIFORGE_ROOTFS_MIB:-64}
# Fixed identity and timestamps, so two builds of the same inputs give the same bytes (mostly).
epoch=1704067200 # 2024-01-01
fs_uuid=6b1f3c1e-0a5e-4d0b-9a53-616d69666f72

say() { echo "build-base-image: $*" >&2; }
die() { say "$*"; exit 1; }
for tool in dpkg-deb xz cpio mkfs.ext4 debugfs busybox apt-get; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-qemu.sh"
done
export PATH="$PATH:/usr/sbin:/sbin"
busybox=$(command -v busybox)
mkdir -p "$out" "$cache"

# One build at a time per output directory (test files may ask concurrently).
exec 9>"$out/.lock"
flock 9

# --- the kernel package: fetched once, then reused (reproducible, and no network needed) ------
deb=$(ls "$cache"/linux-image-*.deb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "${AMIFORGE_KERNEL_PACKAGE:-}" ] && [[ "$(basename "${deb:-none}")" != "${AMIFORGE_KERNEL_PACKAGE}_"* ]]; then deb=; fi
if [ -z "$deb" ]; then
  pkg=${AMIFORGE_KERNEL_PACKAGE:-}
  current() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
  [ -n "$pkg" ] || pkg=$(current)
  [ -n "$pkg" ] || { apt-get -o Acquire::Retries=3 update -qq; pkg=$(current); }
  [ -n "$pkg" ] || die "cannot tell which kernel linux-image-amd64 depends on (apt-cache depends linux-image-amd64)"
  say "fetching $pkg (Debian's package; cached in $cache)"
  # apt-get download writes to the current directory; a stale package list gives 404: refresh once.
  (cd "$cache" && { apt-get -o Acquire::Retries=3 download -qq "$pkg" 2>/dev/null || { apt-get -o Acquire::Retries=3 update -qq && apt-get -o Acquire::Retries=3 download -qq "$pkg"; }; })
  deb=$(ls "$cache/${pkg}"_*.deb | tail -n 1)
fi

inputs=("$0" "$deb" "$busybox" "$src" "$repo/scripts/disk-blocks.ts")
stamp="$out/.built"
if [ -f "$stamp" ] && [ -f "$out/vmlinux" ] && [ -f "$out/initramfs.cpio" ] && [ -f "$out/rootfs.raw" ] && [ -f "$out/blocks.json" ] \
  && [ -z "$(find "${inputs[@]}" -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
say "building into $out from $(basename "$deb")"
work=$(mktemp -d "$build/work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- kernel and modules: one pass over the package's payload, only the files needed ----------
# Each module's own `depends=` names what must load before it; these paths cover them all (the
# resolver below says which one to add if a newer kernel needs more).
mods=(drivers/virtio drivers/block/virtio_blk.ko drivers/net/virtio_net.ko drivers/net/net_failover.ko
  net/core/failover.ko fs/ext4 fs/jbd2 fs/mbcache.ko lib/crc16.ko crypto/crc32c_generic.ko)
patterns=('./boot/vmlinuz-*')
for m in "${mods[@]}"; do patterns+=("./lib/modules/*/kernel/$m"); done
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards "${patterns[@]}"
vmlinuz=$(ls "$work"/boot/vmlinuz-*)
kver=${vmlinuz##*/vmlinuz-}

# vmlinuz is a boot stub followed by the xz-compressed kernel ELF; QEMU boots that ELF directly
# (it carries the PVH entry note), so the guest skips decompressing itself.
offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
[ -n "$offset" ] || die "no xz payload in $vmlinuz (is the kernel still xz-compressed?)"
# (xz stops at the stream's end, so tail may die of SIGPIPE: that is expected, not a failure.)
{ tail -c +$((offset + 1)) "$vmlinuz" || true; } | xz -dc --single-stream >"$work/vmlinux"
[ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || die "the payload of $vmlinuz is not an ELF kernel"

# --- initramfs: busybox, the modules in dependency order, init ---------------------------------
declare -A module_path=()
while IFS= read -r f; do n=$(basename "$f" .ko); module_path[${n//-/_}]=$f; done < <(find "$work/lib/modules" -name '*.ko')
order=()
declare -A seen=()
visit() {
  local m=$1 deps d
  [ -n "${seen[$m]:-}" ] && return
  seen[$m]=1
  [ -n "${module_path[$m]:-}" ] || die "module $m is needed but not extracted: add its path to mods in $0"
  deps=$(LC_ALL=C grep -aom1 'depends=[a-z0-9_,-]*' "${module_path[$m]}" | cut -d= -f2)
  for d in ${deps//,/ }; do visit "$d"; done
  order+=("$m")
}
# virtio_pci for the pc machine, virtio_mmio for microvm; crc32c_generic because ext4's checksums
# ask for "crc32c" at mount time, which no depends= names.
for m in virtio_pci virtio_mmio virtio_blk virtio_net crc32c_generic ext4; do visit "$m"; done

initramfs="$work/initramfs"
mkdir -p "$initramfs/bin" "$initramfs/lib/modules"
cp "$busybox" "$initramfs/bin/busybox"
for applet in sh mount umount mkdir insmod sleep cat switch_root poweroff; do ln -s busybox "$initramfs/bin/$applet"; done
install -m 0755 "$src/initramfs-init" "$initramfs/init"
for m in "${order[@]}"; do cp "${module_path[$m]}" "$initramfs/lib/modules/$m.ko"; echo "$m"; done >"$initramfs/lib/modules/order"
# Uncompressed: QEMU loads it into guest memory as fast as a compressed one, and the guest is
# spared decompressing it under emulation.
find "$initramfs" -exec touch -h -d "@$epoch" {} +
(cd "$initramfs" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --reproducible --quiet) >"$work/initramfs.cpio"

# --- root filesystem: ext4 built from a directory, never mounted ------------------------------
root="$work/rootfs"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,run,tmp,root,var/lib/amiforge}
cp -a "$src/rootfs/." "$root/"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
ln -s ../bin/busybox "$root/sbin/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
echo "amiforge-minimal-linux (kernel $kver, busybox $("$busybox" | head -n 1 | cut -d' ' -f2))" >"$root/etc/amiforge/release"
chmod 1777 "$root/tmp"
find "$root" -exec touch -h -d "@$epoch" {} +
# Inode tables and the journal are zeroed now, not lazily by the guest's first mount (which
# would write the whole table through the volume).
E2FSPROGS_FAKE_TIME=$epoch mkfs.ext4 -q -F -L amiforge-root -U "$fs_uuid" -b 4096 \
  -E "lazy_itable_init=0,lazy_journal_init=0,hash_seed=$fs_uuid,nodiscard" \
  -d "$root" "$work/rootfs.raw" "${rootfs_mib}M" >/dev/null
# mkfs copies each file's ctime, which touch cannot set: pin it in every inode mkfs used (the
# root, lost+found at 11, then one per entry, in order) so a rebuild gives the same bytes.
last=$((11 + $(find "$root" -mindepth 1 | wc -l)))
{ echo "sif <2> ctime @$epoch"; for ((i = 11; i <= last; i++)); do echo "sif <$i> ctime @$epoch"; done; } >"$work/ctimes"
E2FSPROGS_FAKE_TIME=$epoch debugfs -w -f "$work/ctimes" "$work/rootfs.raw" >/dev/null 2>&1

mv "$work/vmlinux" "$out/vmlinux"
mv "$work/initramfs.cpio" "$out/initramfs.cpio"
mv "$work/rootfs.raw" "$out/rootfs.raw"
echo "$kver" >"$out/kernel-version"
# The root disk as the block store's blocks (blocks/, blocks.json): the catalogue hard-links them
# into each region instead of reading and writing the disk again per region at every start.
node=$repo/node_modules/.bin/node
[ -x "$node" ] || node=node
"$node" "$repo/scripts/disk-blocks.ts" "$out/rootfs.raw" "$out"
touch "$stamp"
say "done: kernel $kver; modules ${order[*]}; $(du -h --apparent-size "$out/rootfs.raw" | cut -f1) root disk"
