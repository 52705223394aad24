// Placeholder until the SSH guest session lands; the real adapter replaces this file whole.
import type { GuestAccess } from '../../ports/guest-session.ts';

export function sshGuestAccess(..._args: unknown[]): GuestAccess {
  return { open: async () => { throw new Error('the SSH guest session is not built yet'); } };
}
