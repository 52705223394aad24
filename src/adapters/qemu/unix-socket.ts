// Listening on a unix socket only its owner can reach, as the guest-facing servers (NBD, the
// metadata responder) do: a stale socket file is removed first, the new one made mode 0600.
import { chmod, rm } from 'node:fs/promises';
import type { Server } from 'node:net';

export async function listenOwnerOnly(server: Server, socketPath: string): Promise<void> {
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o600);
}
