#!/usr/bin/env bash
# Assembles a raw disk that boots its own kernel with BOTH legacy BIOS and UEFI, from a root
# filesystem (a directory, or a tarball such as mmdebstrap writes), without loop devices or
# mounts (partition devices of a loop-attached file do not appear on every build machine):
#
#   make-boot-disk.sh --rootfs DIR|TAR --output DISK.raw [--size 2G] [--cmdline '...']
#                     [--root-uuid UUID] [--esp-id XXXXXXXX] [--disk-id 0xXXXXXXXX] [--epoch SECONDS]
#
# The layout is an MBR (DOS) partition table, chosen because both firmwares boot it without
# tricks and it stays valid when the volume is grown:
#   sector 0            GRUB's boot.img (440 bytes of boot code) and the partition table
#   sectors 1..2047     GRUB's i386-pc core.img (the "post-MBR gap"): what SeaBIOS runs
#   partition 1, type ef  the EFI system partition (FAT16, 32 MiB): EFI/BOOT/BOOTX64.EFI, GRUB for
#                       x86_64-efi. OVMF (like the UEFI specification) accepts an ESP in an MBR.
#   partition 2, type 83  the ext4 root filesystem, active, to the end of the disk
# A GPT would need a BIOS boot partition for core.img and its backup header sits at the disk's
# last sector: once a snapshot is restored on a bigger volume that header is no longer at the end
# and firmware and tools complain until it is moved. An MBR has no such header, and the root being
# the last partition lets cloud-init's growpart grow it in place. (MBR limits disks to 2 TiB.)
#
# Both GRUB images carry the same small embedded configuration: find the root filesystem by its
# UUID and read /boot/grub/grub.cfg from it. This script writes that grub.cfg (serial console,
# timeout 0, the root filesystem's own newest /boot/vmlinuz-* and /boot/initrd.img-*) and GRUB's
# modules for both platforms into the filesystem's /boot/grub with debugfs, so the given
# directory is never modified. The disk is sparse; fixed UUIDs and timestamps make a rebuild of
# the same inputs give the same bytes.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

rootfs= output= size=2G cmdline='ro console=ttyS0,115200'
root_uuid=0d3b1a6e-9c4e-4b57-a1f0-616d69666f72 # "amifor" in the last bytes: ours, and fixed
esp_id=414d4946 disk_id=0x616d6966 epoch=${SOURCE_DATE_EPOCH:-1704067200}
usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --rootfs) rootfs=$2 ;; --output) output=$2 ;; --size) size=$2 ;; --cmdline) cmdline=$2 ;;
    --root-uuid) root_uuid=$2 ;; --esp-id) esp_id=$2 ;; --disk-id) disk_id=$2 ;; --epoch) epoch=$2 ;;
    -h | --help) usage ;; *) echo "make-boot-disk: unknown option $1" >&2; usage ;;
  esac
  shift 2
done
[ -n "$rootfs" ] && [ -n "$output" ] || usage

say() { echo "make-boot-disk: $*" >&2; }
die() { say "$*"; exit 1; }
for tool in sfdisk mkfs.ext4 debugfs mkfs.vfat mmd mcopy grub-mkimage; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-qemu.sh"
done
grub_lib=/usr/lib/grub
[ -f "$grub_lib/i386-pc/boot.img" ] || die "GRUB for BIOS is missing (grub-pc-bin): run scripts/install-qemu.sh"
[ -d "$grub_lib/x86_64-efi" ] || die "GRUB for UEFI is missing (grub-efi-amd64-bin): run scripts/install-qemu.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/make-boot-disk.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -f "$rootfs" ]; then
  say "unpacking $rootfs"
  mkdir "$work/rootfs"
  tar -x -C "$work/rootfs" --numeric-owner --xattrs --xattrs-include='*' -f "$rootfs"
  rootfs=$work/rootfs
fi
[ -d "$rootfs" ] || die "--rootfs $rootfs is neither a directory nor a tarball"

# The newest kernel in the filesystem and its initramfs: the disk boots what it carries.
kernel=$(cd "$rootfs/boot" && ls vmlinuz-* 2>/dev/null | sort -V | tail -n 1) || true
[ -n "$kernel" ] || die "no /boot/vmlinuz-* in $rootfs"
kver=${kernel#vmlinuz-}
initrd_line=
[ -f "$rootfs/boot/initrd.img-$kver" ] && initrd_line="  initrd /boot/initrd.img-$kver"

# --- geometry (512-byte sectors) ---------------------------------------------------------------
disk_bytes=$(numfmt --from=iec "$size")
esp_start=2048 esp_sectors=$((32 * 2048))
root_start=$((esp_start + esp_sectors))
disk_sectors=$((disk_bytes / 512))
root_sectors=$(((disk_sectors - root_start) / 8 * 8)) # whole 4 KiB blocks
[ "$root_sectors" -gt 0 ] || die "--size $size is too small"

# --- GRUB: one embedded configuration for both images -----------------------------------------
cat >"$work/early.cfg" <<EOF
search --no-floppy --fs-uuid --set=root $root_uuid
set prefix=(\$root)/boot/grub
EOF
cat >"$work/grub.cfg" <<EOF
# Written by make-boot-disk.sh. Both the BIOS and the UEFI GRUB read this file.
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set default=0
set timeout=0
menuentry '$kver' {
  search --no-floppy --fs-uuid --set=root $root_uuid
  linux /boot/$kernel root=UUID=$root_uuid $cmdline
$initrd_line
}
EOF
common_mods=(part_msdos part_gpt ext2 fat search search_fs_uuid normal configfile linux echo test serial terminal)
grub-mkimage -O i386-pc -o "$work/core.img" -p /boot/grub -c "$work/early.cfg" biosdisk "${common_mods[@]}"
core_bytes=$(stat -c %s "$work/core.img")
[ "$core_bytes" -le $(((esp_start - 1) * 512)) ] || die "core.img ($core_bytes bytes) does not fit before the first partition"
grub-mkimage -O x86_64-efi -o "$work/BOOTX64.EFI" -p /boot/grub -c "$work/early.cfg" "${common_mods[@]}" efi_gop

# --- the root filesystem: built from the directory, then GRUB's files added -------------------
say "ext4 root filesystem ($((root_sectors / 2048)) MiB) from $rootfs"
E2FSPROGS_FAKE_TIME=$epoch mkfs.ext4 -q -F -L root -U "$root_uuid" -b 4096 \
  -E "lazy_itable_init=0,lazy_journal_init=0,hash_seed=$root_uuid,nodiscard" \
  -d "$rootfs" "$work/root.ext4" "$((root_sectors / 8))" >/dev/null
{
  # mkfs copies each file's ctime, which nothing can set on the source, and its atime, which
  # reading the source changes: pin both (mtimes are the tree's own).
  (cd "$rootfs" && find . -mindepth 1 -printf '%P\n') | while IFS= read -r p; do
    printf 'sif "/%s" ctime @%s\nsif "/%s" atime @%s\n' "$p" "$epoch" "$p" "$epoch"
  done
  for t in atime mtime ctime; do echo "sif / $t @$epoch"; done
  echo "mkdir /boot/grub"
  for f in grub.cfg i386-pc x86_64-efi; do echo "rm /boot/grub/$f"; done
  for platform in i386-pc x86_64-efi; do
    echo "mkdir /boot/grub/$platform"
    echo "cd /boot/grub/$platform"
    for f in "$grub_lib/$platform"/*.mod "$grub_lib/$platform"/*.lst; do
      echo "write $f ${f##*/}"
      for t in atime mtime ctime crtime; do echo "sif ${f##*/} $t @$epoch"; done
    done
  done
  echo "cd /boot/grub"
  echo "write $work/grub.cfg grub.cfg"
  for p in /boot/grub /boot/grub/i386-pc /boot/grub/x86_64-efi /boot/grub/grub.cfg; do
    for t in atime mtime ctime crtime; do echo "sif $p $t @$epoch"; done
  done
} >"$work/debugfs.cmds"
E2FSPROGS_FAKE_TIME=$epoch debugfs -w -f "$work/debugfs.cmds" "$work/root.ext4" >/dev/null 2>"$work/debugfs.log" || {
  cat "$work/debugfs.log" >&2; die "debugfs failed"
}
grep -q 'grub.cfg' <(debugfs -R 'ls /boot/grub' "$work/root.ext4" 2>/dev/null) || { cat "$work/debugfs.log" >&2; die "grub.cfg was not written"; }

# --- the EFI system partition --------------------------------------------------------------
# mcopy -m keeps the files' times, but the entries in the root directory (the volume label from
# mkfs.vfat, what mcopy made there) get the time of day: set those to the epoch's date.
pin_fat_root_times() {
  local fat=$1 bps reserved fats per_fat root y m d i
  u16() { od -An -tu2 -j "$1" -N2 "$fat" | tr -d ' '; }
  bps=$(u16 11) reserved=$(u16 14) fats=$(od -An -tu1 -j16 -N1 "$fat" | tr -d ' ') per_fat=$(u16 22)
  root=$(((reserved + fats * per_fat) * bps))
  read -r y m d < <(date -u -d "@$epoch" '+%Y %-m %-d')
  local date=$((((y - 1980) << 9) | (m << 5) | d))
  local le
  le=$(printf '\\x%02x\\x%02x' $((date & 255)) $((date >> 8)))
  for ((i = 0; i < 16; i++)); do
    local at=$((root + i * 32))
    [ "$(od -An -tu1 -j "$at" -N1 "$fat" | tr -d ' ')" = 0 ] && break
    # created (tenths, time, date), accessed (date), modified (time, date); times are 00:00:00
    printf "\\x00\\x00\\x00$le$le" | dd of="$fat" bs=1 seek=$((at + 13)) conv=notrunc status=none
    printf "\\x00\\x00$le" | dd of="$fat" bs=1 seek=$((at + 22)) conv=notrunc status=none
  done
}
mkfs.vfat -F 16 -n EFI -i "$esp_id" -C "$work/esp.fat" $((esp_sectors / 2)) >/dev/null
export MTOOLS_SKIP_CHECK=1 SOURCE_DATE_EPOCH=$epoch
mkdir -p "$work/esp/EFI/BOOT"
cp "$work/BOOTX64.EFI" "$work/esp/EFI/BOOT/BOOTX64.EFI"
find "$work/esp" -exec touch -h -d "@$epoch" {} +
mcopy -s -m -i "$work/esp.fat" "$work/esp/EFI" ::/
pin_fat_root_times "$work/esp.fat"

# --- the disk: partition table, boot code, then the two filesystems --------------------------
tmp_out="$output.tmp"
rm -f "$tmp_out"
truncate -s "$disk_bytes" "$tmp_out"
sfdisk -q --no-reread --no-tell-kernel "$tmp_out" >/dev/null <<EOF
label: dos
label-id: $disk_id
unit: sectors
start=$esp_start, size=$esp_sectors, type=ef
start=$root_start, size=$root_sectors, type=83, bootable
EOF
# boot.img's first 440 bytes (the partition table after them stays); it already points at sector 1.
dd if="$grub_lib/i386-pc/boot.img" of="$tmp_out" bs=440 count=1 conv=notrunc status=none
dd if="$work/core.img" of="$tmp_out" bs=512 seek=1 conv=notrunc status=none
dd if="$work/esp.fat" of="$tmp_out" bs=1M seek=$((esp_start * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$tmp_out" bs=1M seek=$((root_start * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
mv "$tmp_out" "$output"
say "done: $output ($size, $(du -h "$output" | cut -f1) allocated), kernel $kver, root UUID $root_uuid"
