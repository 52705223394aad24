// The clean-up Image Builder runs on a Linux build instance before its image is taken (its
// documented post-build clean-up): what must not travel in an image — SSH host keys (a new
// instance makes its own), every authorized_keys, cloud-init's record of this instance (so the
// next boot is a first boot: new host keys, the new instance's key), shell histories, /tmp and
// /var/tmp, and the machine-id (emptied, not removed, so systemd makes a new one at boot).
//
// It first waits for the first boot's cloud-init to finish, so nothing it writes comes after.
//
// Skipped, as Image Builder documents for its own script, when the recipe overrides the user
// data (the override is then responsible for it); skipped too when the recipe has the tag
// `amiforge:sanitize` = `skip`. The hygiene scan finds what a skipped clean-up left.

import { cloudInitWaitScript } from './cloud-init-waits.ts';

export const SANITIZE_OPT_OUT_TAG = 'amiforge:sanitize';

export const SANITIZE_SCRIPT = `set -u
echo "waiting for cloud-init to finish"
${cloudInitWaitScript('final')}
echo "removing SSH host keys"
rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub
echo "removing authorized_keys"
rm -f /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys
echo "removing cloud-init instance data"
rm -rf /var/lib/cloud/instances/* /var/lib/cloud/instance /var/lib/cloud/data/* /var/lib/cloud/sem/*
echo "removing shell histories"
rm -f /root/.bash_history /root/.zsh_history /root/.ash_history /home/*/.bash_history /home/*/.zsh_history /home/*/.ash_history
echo "emptying /tmp and /var/tmp"
find /tmp /var/tmp -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null || true
echo "emptying the machine-id"
if [ -f /etc/machine-id ]; then : > /etc/machine-id; fi
rm -f /var/lib/dbus/machine-id
sync
echo "clean-up done"
`;

export function sanitizeSkipReason(recipe: { tags?: Record<string, string>; additionalInstanceConfiguration?: { userDataOverride?: string } }): string | undefined {
  if (recipe.tags?.[SANITIZE_OPT_OUT_TAG] === 'skip') return `The recipe's tag ${SANITIZE_OPT_OUT_TAG}=skip opts out of the clean-up.`;
  if (recipe.additionalInstanceConfiguration?.userDataOverride) return 'The recipe overrides the user data; the override is responsible for the clean-up.';
  return undefined;
}
