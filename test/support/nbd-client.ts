// A small NBD client (fixed newstyle, NBD_OPT_EXPORT_NAME, simple replies) for tests and
// benchmarks that drive amiforge's NBD server directly: what a guest's disk driver sends (reads,
// writes, FUA writes, flushes), one request at a time, with the server's answers checked.
import { connect, type Socket } from 'node:net';

const REQUEST_MAGIC = 0x25609513;
const REPLY_MAGIC = 0x67446698;
const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3 } as const;
const FLAG_FUA = 1;

export class NbdClient {
  private readonly socket: Socket;
  private chunks: Buffer[] = [];
  private have = 0;
  private ended = false;
  private wake?: () => void;
  private handle = 0n;
  /** The export's size in bytes, as the server announced it. */
  size = 0;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.have += c.length;
      this.wake?.();
    });
    const end = () => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  /** Connects to the server's unix socket and chooses the export `name`. */
  static async connect(socketPath: string, name = 'disk'): Promise<NbdClient> {
    const socket = connect(socketPath);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new NbdClient(socket);
    const hello = await c.take(18);
    if (hello.readBigUInt64BE(0) !== 0x4e42444d41474943n) throw new Error('not an NBD server');
    socket.write(Buffer.from([0, 0, 0, 3])); // fixed newstyle, no zeroes
    const opt = Buffer.alloc(16);
    opt.writeBigUInt64BE(0x49484156454f5054n, 0);
    opt.writeUInt32BE(1, 8); // NBD_OPT_EXPORT_NAME
    opt.writeUInt32BE(Buffer.byteLength(name), 12);
    socket.write(Buffer.concat([opt, Buffer.from(name)]));
    const info = await c.take(10);
    c.size = Number(info.readBigUInt64BE(0));
    return c;
  }

  private async take(n: number): Promise<Buffer> {
    while (this.have < n) {
      if (this.ended) throw new Error('the NBD server hung up');
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(n)];
    this.have -= n;
    return all.subarray(0, n);
  }

  private async request(type: number, offset: number, length: number, opts: { data?: Buffer; flags?: number; replyBytes?: number } = {}): Promise<Buffer> {
    const head = Buffer.alloc(28);
    const handle = ++this.handle;
    head.writeUInt32BE(REQUEST_MAGIC, 0);
    head.writeUInt16BE(opts.flags ?? 0, 4);
    head.writeUInt16BE(type, 6);
    head.writeBigUInt64BE(handle, 8);
    head.writeBigUInt64BE(BigInt(offset), 16);
    head.writeUInt32BE(length, 24);
    this.socket.write(opts.data ? Buffer.concat([head, opts.data]) : head);
    const reply = await this.take(16);
    if (reply.readUInt32BE(0) !== REPLY_MAGIC || reply.readBigUInt64BE(8) !== handle) throw new Error('bad NBD reply');
    const error = reply.readUInt32BE(4);
    if (error) throw new Error(`NBD request ${type} at ${offset}+${length} failed: error ${error}`);
    return opts.replyBytes ? this.take(opts.replyBytes) : Buffer.alloc(0);
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.request(CMD.READ, offset, length, { replyBytes: length });
  }

  /** A write; `fua` makes it durable before the answer (Force Unit Access). */
  async write(offset: number, data: Buffer, opts: { fua?: boolean } = {}): Promise<void> {
    await this.request(CMD.WRITE, offset, data.length, { data, flags: opts.fua ? FLAG_FUA : 0 });
  }

  /** Every write answered so far is durable once this resolves. */
  async flush(): Promise<void> {
    await this.request(CMD.FLUSH, 0, 0);
  }

  /** Says goodbye (the server flushes what is left) and closes. */
  async close(): Promise<void> {
    const head = Buffer.alloc(28);
    head.writeUInt32BE(REQUEST_MAGIC, 0);
    head.writeUInt16BE(CMD.DISC, 6);
    this.socket.end(head);
    await new Promise<void>((r) => (this.ended ? r() : this.socket.once('close', () => r())));
  }

  /** Drops the connection without a goodbye. */
  destroy(): void {
    this.socket.destroy();
  }
}
