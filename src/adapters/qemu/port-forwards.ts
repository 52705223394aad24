// Host ports forwarded to one guest through QEMU's user network: `hostAddress:hostPort` on the
// amiforge host reaches the guest's port (HMP hostfwd_add/hostfwd_remove on the running netdev,
// so the set changes without restarting the guest, and a port that cannot be bound refuses that
// port only, never the guest's start). QEMU's failure message does not say why a bind failed, so
// each new port is first bound (and released) here: EACCES and EADDRINUSE become reasons that say
// what to change. The guest's network stays restricted (restrict=on): forwarded connections come
// in, nothing goes out but the metadata service.
import { createServer } from 'node:net';
import { isIPv4 } from 'node:net';
import type { ForwardsResult, GuestForwards } from '../../ports/hypervisor.ts';
import { GUEST_ADDRESS, NETDEV } from './qemu-command.ts';

export interface PortForwardsOptions {
  /** Runs an HMP command on the guest's QEMU; returns its output (empty on success). */
  hmp: (commandLine: string) => Promise<string>;
  /** Host port = guest port + offset. */
  offset: number;
  /** Allow host addresses beyond 127.0.0.0/8. */
  beyondLoopback: boolean;
}

interface Active { hostAddress: string; hostPort: number }

/** Why the host cannot listen on address:port, in words that say what to do; undefined when it can. */
export async function bindRefusal(address: string, port: number, offset: number): Promise<string | undefined> {
  const server = createServer();
  const code = await new Promise<string | undefined>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host: address, port, exclusive: true }, () => resolve(undefined));
  });
  if (code === undefined) await new Promise<void>((r) => server.close(() => r()));
  return code && refusalReason(code, address, port, offset);
}

export function refusalReason(code: string, address: string, port: number, offset: number): string {
  switch (code) {
    case 'EACCES':
      return `${address}:${port} is a privileged port and amiforge does not run as root: allow unprivileged binds with ` +
        `\`sysctl net.ipv4.ip_unprivileged_port_start=${port}\`, run amiforge as root, or forward guest ports to higher host ports ` +
        `with a port offset (host port = guest port + offset; now ${offset})`;
    case 'EADDRINUSE':
      return `${address}:${port} is already in use on the host (another process or instance listens there): free it, or choose a port offset`;
    case 'EADDRNOTAVAIL':
      return `${address} is not an address of this host`;
    default:
      return `cannot listen on ${address}:${port}: ${code}`;
  }
}

export class PortForwards {
  private readonly opts: PortForwardsOptions;
  /** Guest port -> where the host listens for it. */
  private readonly active = new Map<number, Active>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: PortForwardsOptions) {
    this.opts = opts;
  }

  /** Makes `forwards` the forwarded set: removes the ports no longer in it, adds the new ones. One change at a time. */
  apply(forwards: GuestForwards): Promise<ForwardsResult> {
    const run = this.queue.then(() => this.applyNow(forwards));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Guest ports forwarded now, and where. */
  current(): { guestPort: number; hostAddress: string; hostPort: number }[] {
    return [...this.active].map(([guestPort, a]) => ({ guestPort, ...a }));
  }

  private async applyNow(f: GuestForwards): Promise<ForwardsResult> {
    const result: ForwardsResult = { forwarded: [], refused: [] };
    const wanted = new Set(f.ports);
    for (const [guestPort, a] of [...this.active]) {
      if (wanted.has(guestPort) && a.hostAddress === f.hostAddress) continue;
      await this.opts.hmp(`hostfwd_remove ${NETDEV} tcp:${a.hostAddress}:${a.hostPort}`);
      this.active.delete(guestPort);
    }
    const addressProblem = !isIPv4(f.hostAddress) ? `${f.hostAddress} is not an IPv4 address`
      : !this.opts.beyondLoopback && !f.hostAddress.startsWith('127.')
        ? `${f.hostAddress} is not a loopback address (127.0.0.0/8); forwarding beyond loopback must be enabled explicitly`
        : undefined;
    for (const guestPort of [...wanted].sort((a, b) => a - b)) {
      if (this.active.has(guestPort)) {
        result.forwarded.push(guestPort);
        continue;
      }
      const hostPort = guestPort + this.opts.offset;
      const reason = addressProblem
        ?? (!Number.isInteger(guestPort) || guestPort < 1 || guestPort > 65535 ? `${guestPort} is not a TCP port` : undefined)
        ?? (hostPort > 65535 ? `guest port ${guestPort} + offset ${this.opts.offset} is beyond 65535` : undefined)
        ?? (await bindRefusal(f.hostAddress, hostPort, this.opts.offset))
        ?? (await this.add(f.hostAddress, hostPort, guestPort));
      if (reason) result.refused.push({ port: guestPort, reason });
      else {
        this.active.set(guestPort, { hostAddress: f.hostAddress, hostPort });
        result.forwarded.push(guestPort);
      }
    }
    return result;
  }

  private async add(hostAddress: string, hostPort: number, guestPort: number): Promise<string | undefined> {
    const out = (await this.opts.hmp(`hostfwd_add ${NETDEV} tcp:${hostAddress}:${hostPort}-${GUEST_ADDRESS}:${guestPort}`)).trim();
    return out ? `QEMU: ${out}` : undefined;
  }

  /** The QEMU is gone: its listeners went with it. */
  forget(): void {
    this.active.clear();
  }
}
