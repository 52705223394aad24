// A TCP relay in front of a server that counts the bytes it carries each way: what a client
// (the aws CLI) really transferred, headers and all, whatever its own reporting says.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class CountingRelay {
  /** Bytes from the server to the client since the last reset. */
  received = 0;
  /** Bytes from the client to the server since the last reset. */
  sent = 0;
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly target: URL;
  constructor(target: string) {
    this.target = new URL(target);
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
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  reset(): void {
    this.received = 0;
    this.sent = 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
