// Placeholder until the simulator's guest session lands; the real adapter replaces this file whole.
import type { GuestAccess } from '../../ports/guest-session.ts';

export function simGuestAccess(..._args: unknown[]): GuestAccess {
  return { open: async () => { throw new Error('the simulator guest session is not built yet'); } };
}
