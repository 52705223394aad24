#!/usr/bin/env bash
# mmdebstrap's customize hook for amiforge's Debian 12 image: runs on the host with the new root
# filesystem's directory as $1 (scripts/build-debian-image.sh passes the rest in the environment:
# ROOT_UUID, KERNEL_CMDLINE). It makes the tree what a Debian cloud image is on first boot:
# cloud-init configured, no identity of its own (machine-id, SSH host keys), nothing cached.
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
: "${ROOT_UUID:?}" "${KERNEL_CMDLINE:?}"

install -m 0644 "$here/90-amiforge.cfg" "$root/etc/cloud/cloud.cfg.d/90-amiforge.cfg"
# Debian's cloud.cfg names its default user `debian`; Debian's AMIs call it `admin`.
sed -i 's/^\(\s*name:\) debian$/\1 admin/' "$root/etc/cloud/cloud.cfg"
install -m 0644 "$here/sshd-amiforge.conf" "$root/etc/ssh/sshd_config.d/amiforge.conf"
sed "s|@CMDLINE@|$KERNEL_CMDLINE|" "$here/grub-default" >"$root/etc/default/grub"

echo "UUID=$ROOT_UUID / ext4 rw,discard,errors=remount-ro 0 1" >"$root/etc/fstab"
echo 'LANG=C.UTF-8' >"$root/etc/default/locale"
echo debian >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# The network: cloud-init writes the interface's configuration; loopback is ifupdown's.
printf 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n' >"$root/etc/network/interfaces"

# A small initramfs: the virtio drivers and ext4 only (15 MB -> ~6 MB; less for the guest to read).
printf 'MODULES=list\nCOMPRESS=gzip\n' >"$root/etc/initramfs-tools/conf.d/amiforge"
printf '%s\n' virtio_pci virtio_blk virtio_net ext4 crc32c_generic >"$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all >/dev/null

# Units that only slow a cloud guest's boot (measured: e2scrub_reap alone 6 s) or have no use
# here (no VGA console, no binfmt, apt runs when the user asks).
for unit in e2scrub_reap.service e2scrub_all.timer apt-daily.timer apt-daily-upgrade.timer \
  systemd-binfmt.service getty@tty1.service fstrim.timer man-db.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

# No identity baked in: each instance gets its own machine-id and SSH host keys at first boot.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
# Nothing cached: package lists, logs, cloud-init's state.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/lib/cloud/* "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
mkdir -p "$root/var/lib/apt/lists/partial"
