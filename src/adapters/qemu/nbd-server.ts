// An NBD server on a unix socket, exporting one block device that it reaches through the small
// NbdExport interface (so it knows nothing of volumes or stores). QEMU attaches it as a guest's
// disk with `file.driver=nbd,file.path=SOCKET,file.export=NAME` (or `nbd+unix:///NAME?socket=`).
//
// What it speaks: fixed newstyle negotiation (NBD_OPT_EXPORT_NAME, NBD_OPT_INFO/GO, LIST, ABORT;
// structured replies and meta contexts are refused, so clients use simple replies), then READ,
// WRITE (with FUA), FLUSH, TRIM (advisory, a no-op unless the export trims) and DISC. Requests on
// a connection run concurrently (up to MAX_IN_FLIGHT) and are answered as they finish, matched
// by their handle, as the protocol allows.
import { createServer, type Server, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { listenOwnerOnly } from './unix-socket.ts';

/** The device the server exports. Offsets and lengths are bytes, always within `size`. */
export interface NbdExport {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Buffer): Promise<void>;
  /** Makes every completed write durable. */
  flush(): Promise<void>;
  /** Optional: the range's contents may be discarded. */
  trim?(offset: number, length: number): Promise<void>;
  /** Optional: what the export's writes cost its store (e.g. bytes stored), beside the server's stats. */
  writeStats?(): Record<string, number>;
}

export interface NbdServerOptions {
  export: NbdExport;
  /** The export's name; the empty name (the default export) is accepted too. */
  name: string;
  readOnly?: boolean;
  /** Failures of the export (answered EIO to the client) and protocol violations. */
  onError?: (err: unknown) => void;
}

export interface NbdStats {
  connections: number;
  reads: number;
  bytesRead: number;
  writes: number;
  bytesWritten: number;
  flushes: number;
  trims: number;
}

const NBDMAGIC = 0x4e42444d41474943n;
const IHAVEOPT = 0x49484156454f5054n;
const OPT_REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;

const FLAG_FIXED_NEWSTYLE = 1 << 0;
const FLAG_NO_ZEROES = 1 << 1;

const TX_HAS_FLAGS = 1 << 0;
const TX_READ_ONLY = 1 << 1;
const TX_SEND_FLUSH = 1 << 2;
const TX_SEND_FUA = 1 << 3;
const TX_SEND_TRIM = 1 << 5;

const OPT = { EXPORT_NAME: 1, ABORT: 2, LIST: 3, INFO: 6, GO: 7 } as const;
const REP = { ACK: 1, SERVER: 2, INFO: 3, ERR_UNSUP: 0x80000001, ERR_INVALID: 0x80000003, ERR_UNKNOWN: 0x80000006 } as const;
const INFO_EXPORT = 0;
const INFO_BLOCK_SIZE = 3;

const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4 } as const;
const CMD_FLAG_FUA = 1 << 0;
const ERR = { EPERM: 1, EIO: 5, EINVAL: 22, ENOSPC: 28, ENOTSUP: 95 } as const;

/** QEMU's own limit; larger requests are a protocol error. */
export const MAX_REQUEST = 32 * 1024 * 1024;
const MAX_OPTION = 64 * 1024;
const MAX_IN_FLIGHT = 16;

class Disconnected extends Error {}

/** Reads exact byte counts from a socket, pausing it while enough is buffered. */
class SocketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private wake?: () => void;
  private readonly socket: Socket;
  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered > 2 * MAX_REQUEST) socket.pause();
      this.wake?.();
    });
    const end = (): void => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  async read(n: number): Promise<Buffer> {
    while (this.buffered < n) {
      if (this.ended) throw new Disconnected();
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    if (this.buffered <= MAX_REQUEST && this.socket.isPaused()) this.socket.resume();
    return out;
  }
}

export class NbdServer {
  private readonly opts: NbdServerOptions;
  private server?: Server;
  private socketPath?: string;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<Promise<void>>();
  readonly stats: NbdStats = { connections: 0, reads: 0, bytesRead: 0, writes: 0, bytesWritten: 0, flushes: 0, trims: 0 };

  constructor(opts: NbdServerOptions) {
    if (!Number.isSafeInteger(opts.export.size) || opts.export.size < 0) throw new RangeError(`bad export size ${opts.export.size}`);
    this.opts = opts;
  }

  /** The server's statistics with the export's own (bytes stored, when it counts them). */
  allStats(): NbdStats & Record<string, number> {
    return { ...this.opts.export.writeStats?.(), ...this.stats };
  }

  /** Listens on `socketPath` (replacing a stale socket file there), readable by this user only. */
  async listen(socketPath: string): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      this.stats.connections++;
      const session = this.serve(socket)
        .catch((err) => {
          if (!(err instanceof Disconnected)) this.opts.onError?.(err);
        })
        .finally(() => {
          socket.destroy();
          this.sockets.delete(socket);
          this.sessions.delete(session);
        });
      this.sessions.add(session);
    });
    await listenOwnerOnly(server, socketPath);
    this.server = server;
    this.socketPath = socketPath;
  }

  /** Stops listening, cuts every connection and waits for their requests in flight to finish. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await Promise.all([closed, ...this.sessions]);
    if (this.socketPath) await rm(this.socketPath, { force: true });
  }

  private async serve(socket: Socket): Promise<void> {
    const reader = new SocketReader(socket);
    const hello = Buffer.alloc(18);
    hello.writeBigUInt64BE(NBDMAGIC, 0);
    hello.writeBigUInt64BE(IHAVEOPT, 8);
    hello.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
    socket.write(hello);
    const clientFlags = (await reader.read(4)).readUInt32BE(0);
    if (!(clientFlags & FLAG_FIXED_NEWSTYLE)) throw new Error('NBD client does not speak fixed newstyle');
    const noZeroes = (clientFlags & FLAG_NO_ZEROES) !== 0;
    if (await this.negotiate(socket, reader, noZeroes)) await this.transmit(socket, reader);
  }

  private txFlags(): number {
    const base = TX_HAS_FLAGS | TX_SEND_FLUSH | TX_SEND_TRIM;
    return this.opts.readOnly ? base | TX_READ_ONLY : base | TX_SEND_FUA;
  }

  /** Option haggling; true once the client has chosen the export and transmission begins. */
  private async negotiate(socket: Socket, reader: SocketReader, noZeroes: boolean): Promise<boolean> {
    const reply = (option: number, type: number, data: Buffer = Buffer.alloc(0)): void => {
      const head = Buffer.alloc(20);
      head.writeBigUInt64BE(OPT_REPLY_MAGIC, 0);
      head.writeUInt32BE(option, 8);
      head.writeUInt32BE(type, 12);
      head.writeUInt32BE(data.length, 16);
      socket.write(Buffer.concat([head, data]));
    };
    const known = (name: string): boolean => name === this.opts.name || name === '';
    for (;;) {
      const head = await reader.read(16);
      if (head.readBigUInt64BE(0) !== IHAVEOPT) throw new Error('NBD client sent a bad option magic');
      const option = head.readUInt32BE(8);
      const length = head.readUInt32BE(12);
      if (length > MAX_OPTION) throw new Error(`NBD option ${option} is ${length} bytes long`);
      const data = await reader.read(length);
      switch (option) {
        case OPT.EXPORT_NAME: {
          // No reply header here: unknown names can only be refused by hanging up.
          if (!known(data.toString('utf8'))) return false;
          const info = Buffer.alloc(noZeroes ? 10 : 134);
          info.writeBigUInt64BE(BigInt(this.opts.export.size), 0);
          info.writeUInt16BE(this.txFlags(), 8);
          socket.write(info);
          return true;
        }
        case OPT.INFO:
        case OPT.GO: {
          const nameLength = length >= 4 ? data.readUInt32BE(0) : -1;
          if (nameLength < 0 || 4 + nameLength + 2 > length) {
            reply(option, REP.ERR_INVALID);
            break;
          }
          if (!known(data.subarray(4, 4 + nameLength).toString('utf8'))) {
            reply(option, REP.ERR_UNKNOWN);
            break;
          }
          const exportInfo = Buffer.alloc(12);
          exportInfo.writeUInt16BE(INFO_EXPORT, 0);
          exportInfo.writeBigUInt64BE(BigInt(this.opts.export.size), 2);
          exportInfo.writeUInt16BE(this.txFlags(), 10);
          reply(option, REP.INFO, exportInfo);
          // Sizes: any byte range works; 4 KiB is what the guest's filesystem uses.
          const blockSize = Buffer.alloc(14);
          blockSize.writeUInt16BE(INFO_BLOCK_SIZE, 0);
          blockSize.writeUInt32BE(1, 2);
          blockSize.writeUInt32BE(4096, 6);
          blockSize.writeUInt32BE(MAX_REQUEST, 10);
          reply(option, REP.INFO, blockSize);
          reply(option, REP.ACK);
          if (option === OPT.GO) return true;
          break;
        }
        case OPT.LIST: {
          const name = Buffer.from(this.opts.name, 'utf8');
          const entry = Buffer.alloc(4 + name.length);
          entry.writeUInt32BE(name.length, 0);
          name.copy(entry, 4);
          reply(option, REP.SERVER, entry);
          reply(option, REP.ACK);
          break;
        }
        case OPT.ABORT:
          reply(option, REP.ACK);
          return false;
        default:
          // STARTTLS, STRUCTURED_REPLY, meta contexts and anything newer.
          reply(option, REP.ERR_UNSUP);
      }
    }
  }

  private async transmit(socket: Socket, reader: SocketReader): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const answer = (handle: Buffer, error: number, data?: Buffer): void => {
      if (socket.destroyed) return;
      const head = Buffer.alloc(16);
      head.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
      head.writeUInt32BE(error, 4);
      handle.copy(head, 8);
      // Two writes, no await between them: the reply's bytes stay together on the socket.
      socket.write(head);
      if (data) socket.write(data);
    };
    try {
      for (;;) {
        const req = await reader.read(28);
        if (req.readUInt32BE(0) !== REQUEST_MAGIC) throw new Error('NBD client sent a bad request magic');
        const flags = req.readUInt16BE(4);
        const type = req.readUInt16BE(6);
        const handle = Buffer.from(req.subarray(8, 16));
        const offset = Number(req.readBigUInt64BE(16));
        const length = req.readUInt32BE(24);
        if (type === CMD.WRITE && length > MAX_REQUEST) throw new Error(`NBD write of ${length} bytes is over the limit`);
        const payload = type === CMD.WRITE ? Buffer.from(await reader.read(length)) : undefined;
        if (type === CMD.DISC) break;
        const work = this.execute(type, flags, offset, length, payload)
          .then((r) => answer(handle, r.error, r.data))
          .catch((err) => {
            this.opts.onError?.(err);
            answer(handle, ERR.EIO);
          })
          .finally(() => inFlight.delete(work));
        inFlight.add(work);
        if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      }
    } finally {
      // Whether the client said goodbye or vanished, finish what it sent and make it durable.
      await Promise.all(inFlight);
      if (!this.opts.readOnly) await this.opts.export.flush().catch((err) => this.opts.onError?.(err));
    }
    socket.end();
  }

  private async execute(type: number, flags: number, offset: number, length: number, payload?: Buffer): Promise<{ error: number; data?: Buffer }> {
    const exp = this.opts.export;
    const inRange = offset + length <= exp.size;
    switch (type) {
      case CMD.READ: {
        if (!inRange || length > MAX_REQUEST) return { error: ERR.EINVAL };
        const data = await exp.read(offset, length);
        if (data.length !== length) throw new Error(`the export read ${data.length} bytes, not ${length}`);
        this.stats.reads++;
        this.stats.bytesRead += length;
        return { error: 0, data };
      }
      case CMD.WRITE:
        if (this.opts.readOnly) return { error: ERR.EPERM };
        if (!inRange) return { error: ERR.ENOSPC };
        await exp.write(offset, payload!);
        this.stats.writes++;
        this.stats.bytesWritten += length;
        if (flags & CMD_FLAG_FUA) await exp.flush();
        return { error: 0 };
      case CMD.FLUSH:
        this.stats.flushes++;
        if (!this.opts.readOnly) await exp.flush();
        return { error: 0 };
      case CMD.TRIM:
        if (this.opts.readOnly) return { error: ERR.EPERM };
        if (!inRange) return { error: ERR.EINVAL };
        this.stats.trims++;
        await exp.trim?.(offset, length);
        return { error: 0 };
      default:
        return { error: ERR.ENOTSUP };
    }
  }
}
