// The simulator's user-data dialect, so tests and benchmarks can change and read volumes through
// the real API (RunInstances UserData) without a guest operating system. A script starts with
// `#!amiforge-sim`; each further line is one command (blank lines and `#` comments are skipped):
//
//   echo TEXT                       prints TEXT on the console
//   write DEVICE OFFSET TEXT        writes TEXT (UTF-8, the rest of the line verbatim) at byte OFFSET
//                                   of the volume attached at DEVICE
//   read DEVICE OFFSET LENGTH       prints LENGTH bytes (at most 4096) from OFFSET as text; bytes that
//                                   are not printable (NUL, control characters) print as '.'
//   fill DEVICE OFFSET LENGTH SEED  writes LENGTH bytes derived from SEED and the block index, so
//                                   every 512 KiB block written differs (for benchmarks)
//   metadata PATH                   prints an instance metadata value (e.g. instance-id, local-ipv4)
//   sleep MS                        waits; a graceful shutdown waits for it (a hung guest)
//   poweroff                        the guest shuts itself down (InstanceInitiatedShutdownBehavior)
//
// Numbers are decimal bytes, optionally with a K, M or G suffix (KiB, MiB, GiB). DEVICE is the
// device name in the block device mapping (`/dev/xvda`, or `xvda`). The first failing command
// stops the script, as `set -e` would, and its error is printed.
import { createHash } from 'node:crypto';
import type { GuestDisk } from '../../ports/hypervisor.ts';

export const SIM_SHEBANG = '#!amiforge-sim';
const BLOCK = 512 * 1024;
const MAX_READ = 4096;

export type SimCommand =
  | { op: 'echo'; line: number; text: string }
  | { op: 'write'; line: number; device: string; offset: number; text: string }
  | { op: 'read'; line: number; device: string; offset: number; length: number }
  | { op: 'fill'; line: number; device: string; offset: number; length: number; seed: string }
  | { op: 'metadata'; line: number; path: string }
  | { op: 'sleep'; line: number; ms: number }
  | { op: 'poweroff'; line: number };

export class SimScriptError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

export const isSimScript = (userData: Buffer): boolean =>
  userData.subarray(0, SIM_SHEBANG.length).toString('utf8') === SIM_SHEBANG;

function parseSize(raw: string | undefined, line: number, what: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(raw ?? '');
  if (!m) throw new SimScriptError(line, `${what} must be a number of bytes (optionally with K, M or G), not '${raw ?? ''}'`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * scale;
  if (!Number.isSafeInteger(n)) throw new SimScriptError(line, `${what} is too large`);
  return n;
}

/** Splits off `count` space-separated words; the rest of the line (verbatim) comes last. */
function words(rest: string, count: number): [string[], string] {
  const out: string[] = [];
  let s = rest;
  for (let i = 0; i < count; i++) {
    const m = /^\s*(\S+)/.exec(s);
    if (!m) break;
    out.push(m[1]);
    s = s.slice(m[0].length);
  }
  return [out, s.startsWith(' ') ? s.slice(1) : s];
}

/** Parses a whole script; throws SimScriptError naming the first bad line. */
export function parseSimScript(text: string): SimCommand[] {
  const lines = text.split(/\r?\n/);
  if (lines[0].trim() !== SIM_SHEBANG) throw new SimScriptError(1, `a script starts with ${SIM_SHEBANG}`);
  const commands: SimCommand[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i];
    if (!raw.trim() || raw.trimStart().startsWith('#')) continue;
    const [[op], rest] = words(raw, 1);
    switch (op) {
      case 'echo':
        commands.push({ op, line, text: rest });
        break;
      case 'write': {
        const [[device, offset], text] = words(rest, 2);
        if (!device || offset === undefined) throw new SimScriptError(line, 'usage: write DEVICE OFFSET TEXT');
        commands.push({ op, line, device, offset: parseSize(offset, line, 'OFFSET'), text });
        break;
      }
      case 'read': {
        const [[device, offset, length], extra] = words(rest, 3);
        if (!device || length === undefined || extra.trim()) throw new SimScriptError(line, 'usage: read DEVICE OFFSET LENGTH');
        const n = parseSize(length, line, 'LENGTH');
        if (n > MAX_READ) throw new SimScriptError(line, `read prints at most ${MAX_READ} bytes`);
        commands.push({ op, line, device, offset: parseSize(offset, line, 'OFFSET'), length: n });
        break;
      }
      case 'fill': {
        const [[device, offset, length, seed], extra] = words(rest, 4);
        if (!seed || extra.trim()) throw new SimScriptError(line, 'usage: fill DEVICE OFFSET LENGTH SEED');
        commands.push({ op, line, device, offset: parseSize(offset, line, 'OFFSET'), length: parseSize(length, line, 'LENGTH'), seed });
        break;
      }
      case 'metadata': {
        const [[path], extra] = words(rest, 1);
        if (!path || extra.trim()) throw new SimScriptError(line, 'usage: metadata PATH');
        commands.push({ op, line, path });
        break;
      }
      case 'sleep': {
        const [[ms], extra] = words(rest, 1);
        if (!ms || !/^\d+$/.test(ms) || extra.trim()) throw new SimScriptError(line, 'usage: sleep MILLISECONDS');
        commands.push({ op, line, ms: Number(ms) });
        break;
      }
      case 'poweroff':
        if (rest.trim()) throw new SimScriptError(line, 'usage: poweroff');
        commands.push({ op, line });
        break;
      default:
        throw new SimScriptError(line, `unknown command '${op}' (echo, write, read, fill, metadata, sleep, poweroff)`);
    }
  }
  return commands;
}

/** Printable text for a console line: control bytes and NULs become '.'. */
export function printable(bytes: Buffer): string {
  return bytes.toString('utf8').replace(/[\x00-\x08\x0b-\x1f\x7f\ufffd]/g, '.').replace(/\n/g, ' ');
}

/** The bytes `fill` writes to block `index`: SHA-256(seed:index) repeated (cheap, never zero). */
export function fillBlock(seed: string, index: number): Buffer {
  const digest = createHash('sha256').update(`${seed}:${index}`).digest();
  const out = Buffer.allocUnsafe(BLOCK);
  for (let i = 0; i < BLOCK; i += digest.length) digest.copy(out, i);
  return out;
}

export interface SimScriptEnv {
  disk(device: string): GuestDisk | undefined;
  print(line: string): void;
  metadata: Record<string, string>;
  /** Resolves after `ms`, or early (rejecting) when the guest is killed. */
  sleep(ms: number): Promise<void>;
  /** True once the guest is being shut down: the script stops before its next command. */
  stopping(): boolean;
}

export type ScriptOutcome = 'finished' | 'poweroff' | 'interrupted';

function diskFor(env: SimScriptEnv, cmd: { device: string; line: number }): GuestDisk {
  const name = cmd.device.startsWith('/dev/') ? cmd.device : `/dev/${cmd.device}`;
  const disk = env.disk(name);
  if (!disk) throw new SimScriptError(cmd.line, `no volume is attached at ${name}`);
  return disk;
}

function checkRange(disk: GuestDisk, offset: number, length: number, line: number): void {
  if (offset + length > disk.sizeBytes) {
    throw new SimScriptError(line, `${offset}+${length} is past the end of ${disk.device} (${disk.sizeBytes} bytes)`);
  }
}

async function fill(disk: GuestDisk, cmd: { offset: number; length: number; seed: string }, env: SimScriptEnv): Promise<boolean> {
  let pos = cmd.offset;
  const end = cmd.offset + cmd.length;
  while (pos < end) {
    if (env.stopping()) return false;
    const index = Math.floor(pos / BLOCK);
    const within = pos - index * BLOCK;
    const n = Math.min(BLOCK - within, end - pos);
    const block = fillBlock(cmd.seed, index);
    await disk.write(pos, n === BLOCK ? block : block.subarray(within, within + n));
    pos += n;
  }
  return true;
}

/** Runs a parsed script against the guest's disks; stops early when the guest is stopping. */
export async function runSimScript(commands: SimCommand[], env: SimScriptEnv): Promise<ScriptOutcome> {
  for (const cmd of commands) {
    if (env.stopping()) return 'interrupted';
    switch (cmd.op) {
      case 'echo':
        env.print(cmd.text);
        break;
      case 'write': {
        const disk = diskFor(env, cmd);
        const bytes = Buffer.from(cmd.text, 'utf8');
        checkRange(disk, cmd.offset, bytes.length, cmd.line);
        await disk.write(cmd.offset, bytes);
        // As a script's `dd conv=fsync` would: the write is durable before the next command.
        await disk.blocks?.flush();
        break;
      }
      case 'read': {
        const disk = diskFor(env, cmd);
        checkRange(disk, cmd.offset, cmd.length, cmd.line);
        env.print(printable(await disk.read(cmd.offset, cmd.length)));
        break;
      }
      case 'fill': {
        const disk = diskFor(env, cmd);
        checkRange(disk, cmd.offset, cmd.length, cmd.line);
        const filled = await fill(disk, cmd, env);
        await disk.blocks?.flush();
        if (!filled) return 'interrupted';
        break;
      }
      case 'metadata': {
        const value = env.metadata[cmd.path];
        if (value === undefined) throw new SimScriptError(cmd.line, `no instance metadata at ${cmd.path}`);
        env.print(value);
        break;
      }
      case 'sleep':
        await env.sleep(cmd.ms);
        break;
      case 'poweroff':
        return 'poweroff';
    }
  }
  return 'finished';
}
