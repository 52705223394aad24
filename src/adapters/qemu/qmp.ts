// A minimal QMP (QEMU Machine Protocol) client: connect to the control socket, leave capability
// negotiation mode, run commands one at a time. Events QEMU sends in between are passed to
// the `onEvent` listeners (SHUTDOWN, RESET, DEVICE_DELETED, ...), never mistaken for replies.
import { connect, type Socket } from 'node:net';

type Json = Record<string, unknown>;

export class QmpClient {
  private readonly socket: Socket;
  private buffered = '';
  private waiting: ((msg: Json) => void)[] = [];
  private closed = false;
  private readonly listeners = new Set<(event: Json) => void>();
  private resolveClosed!: () => void;
  /** Settles when the connection is gone (QEMU exited, or close()). */
  readonly gone = new Promise<void>((r) => { this.resolveClosed = r; });

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) !== -1) {
        const line = this.buffered.slice(0, nl).trim();
        this.buffered = this.buffered.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as Json;
        if ('event' in msg) for (const l of [...this.listeners]) l(msg);
        else this.waiting.shift()?.(msg);
      }
    });
    const fail = (): void => {
      this.closed = true;
      this.resolveClosed();
      for (const w of this.waiting.splice(0)) w({ error: { class: 'Disconnected', desc: 'QMP connection closed' } });
    };
    socket.on('close', fail);
    socket.on('error', fail);
  }

  /** Connects (retrying while QEMU creates the socket, up to `timeoutMs`) and negotiates. */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let client: QmpClient | undefined;
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once('error', reject);
        });
        client = new QmpClient(socket);
        await client.next(); // the greeting
        await client.execute('qmp_capabilities');
        return client;
      } catch (err) {
        client?.close();
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private next(): Promise<Json> {
    if (this.closed) return Promise.reject(new Error('QMP connection closed'));
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async execute(command: string, args?: Json): Promise<unknown> {
    const reply = this.next();
    this.socket.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    const msg = await reply;
    if (msg.error) {
      const e = msg.error as { class: string; desc: string };
      throw new Error(`QMP ${command}: ${e.class}: ${e.desc}`);
    }
    return msg.return;
  }

  /** Calls `listener` with each event QEMU sends (SHUTDOWN, RESET, DEVICE_DELETED, ...); returns the unsubscribe function. */
  onEvent(listener: (event: Json) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A human monitor (HMP) command, for what QMP has no command for (hostfwd_add/remove). HMP
   * reports failures as text: the output is returned, empty when the command said nothing.
   */
  async hmp(commandLine: string): Promise<string> {
    return String(await this.execute('human-monitor-command', { 'command-line': commandLine }) ?? '');
  }

  /** Ctrl-Alt-Del: the guest's init shuts down cleanly (the base image powers off). */
  sendCtrlAltDel(): Promise<unknown> {
    const key = (data: string) => ({ type: 'qcode', data });
    return this.execute('send-key', { keys: [key('ctrl'), key('alt'), key('delete')] });
  }

  close(): void {
    this.socket.destroy();
  }
}
