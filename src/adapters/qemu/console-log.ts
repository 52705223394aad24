// A guest's serial console: QEMU connects to a unix socket amiforge listens on, and amiforge
// appends what arrives to the console file (kept across stops, deleted at termination) and hands
// it to a watcher (boot-watch.ts). The file is capped: past `maxFileBytes` it is rewritten with
// only its last `keepBytes`, so a guest flooding its console costs a bounded amount of disk;
// GetConsoleOutput returns the last 64 KiB anyway, as EC2 does. A guest that writes faster than
// the file is written waits (the socket is paused), as a real serial line would make it.
import { createServer, type Server, type Socket } from 'node:net';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { appendFile, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { listenOwnerOnly } from './unix-socket.ts';

export interface ConsoleLogOptions {
  file: string;
  /** What is kept when the file is cut back. Default 64 KiB. */
  keepBytes?: number;
  /** The file's cap. Default 256 KiB. */
  maxFileBytes?: number;
  /** Each piece of console output, once it is in the file (so what it shows, the file shows). */
  onOutput?: (chunk: Buffer) => void;
  onError?: (err: unknown) => void;
}

/** Pause the guest's console while this much waits to be written. */
const HIGH_WATER = 1024 * 1024;

export class ConsoleLog {
  private readonly opts: Required<Omit<ConsoleLogOptions, 'onOutput' | 'onError'>> & Pick<ConsoleLogOptions, 'onOutput' | 'onError'>;
  private server?: Server;
  private socketPath?: string;
  private readonly sockets = new Set<Socket>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private size = -1;
  private writing?: Promise<void>;

  constructor(opts: ConsoleLogOptions) {
    this.opts = { keepBytes: 64 * 1024, maxFileBytes: 256 * 1024, ...opts };
  }

  async listen(socketPath: string): Promise<void> {
    this.size = await stat(this.opts.file).then((s) => s.size, () => 0);
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('data', (chunk: Buffer) => this.take(chunk, socket));
      socket.on('error', () => {});
      socket.on('close', () => this.sockets.delete(socket));
    });
    await listenOwnerOnly(server, socketPath);
    this.server = server;
    this.socketPath = socketPath;
  }

  private take(chunk: Buffer, socket: Socket): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes > HIGH_WATER) socket.pause();
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
      for (const s of this.sockets) s.resume();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length) {
      const data = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      try {
        if (this.size + data.length <= this.opts.maxFileBytes) {
          await appendFile(this.opts.file, data);
          this.size += data.length;
        } else {
          // Cut back: the file's tail and the new data, the last keepBytes of them, replace it.
          const old = await readFile(this.opts.file).catch(() => Buffer.alloc(0));
          const all = Buffer.concat([old.subarray(Math.max(0, old.length - this.opts.keepBytes)), data]);
          const kept = all.subarray(Math.max(0, all.length - this.opts.keepBytes));
          const tmp = `${this.opts.file}.tmp`;
          await writeFile(tmp, kept);
          await rename(tmp, this.opts.file);
          this.size = kept.length;
        }
      } catch (err) {
        this.opts.onError?.(err);
      }
      this.opts.onOutput?.(data);
    }
  }

  /**
   * Resolves once everything that has arrived is in the file and handed to onOutput. Whoever
   * reads the file synchronously right after it sees exactly the output onOutput has reported.
   */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Stops listening and writes what has arrived. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of this.sockets) s.destroy();
      await closed;
    }
    while (this.writing) await this.writing;
    if (this.socketPath) await rm(this.socketPath, { force: true });
  }
}

/**
 * The last `limit` bytes of a console file and when it was last written, or undefined when there
 * is none. Synchronous, so that nothing is appended between the read and what its caller does next.
 */
export function readConsoleTail(file: string, limit: number): { text: string; timestamp: Date } | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size, mtime } = fstatSync(fd);
    const length = Math.min(size, limit);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    return { text: buf.toString('utf8'), timestamp: mtime };
  } finally {
    closeSync(fd);
  }
}
