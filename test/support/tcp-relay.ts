// A TCP relay a test can cut and open again, to take a server away from amiforge's view; it
// counts the bytes it carries, so a benchmark can say what a client really transferred.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a server (the object store) that a test can cut: amiforge reaches the
 * server through it, so "the object store is down" is the relay refusing connections; `open`
 * again listens on the same port.
 */
export class Relay {
  /** Bytes from the server to the client since the last resetCounts(). */
  received = 0;
  /** Bytes from the client to the server since the last resetCounts(). */
  sent = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly target: URL;
  port = 0;
  constructor(target: URL) {
    this.target = target;
  }

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection(Number(this.target.port || 80), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => { client.destroy(); upstream.destroy(); });
      }
      client.on('data', (d: Buffer) => { this.sent += d.length; });
      upstream.on('data', (d: Buffer) => { this.received += d.length; });
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  resetCounts(): void {
    this.received = 0;
    this.sent = 0;
  }

  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
