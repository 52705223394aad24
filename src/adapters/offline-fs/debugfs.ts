// e2fsprogs' debugfs as the ext4 reader: it opens a filesystem image read-only (at a byte offset,
// through the `IMAGE?offset=N` form its unix I/O manager accepts) and runs a batch of commands
// from a file in one process. `-c` (catastrophic mode) skips reading the inode and block bitmaps,
// which reading files does not need: less of the disk is read.
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FsEntry, FsEntryKind } from '../../ports/offline-filesystem.ts';

/** debugfs's own argument parser takes double quotes literally; such names are not asked for. */
const askable = (path: string) => path.startsWith('/') && !/["\n\r]/.test(path);

function kindOf(mode: number): FsEntryKind {
  switch (mode & 0o170000) {
    case 0o100000: return 'file';
    case 0o040000: return 'dir';
    case 0o120000: return 'symlink';
    default: return 'other';
  }
}

/** One line of `ls -p`: /INODE/MODE(octal)/UID/GID/NAME/SIZE/ (size empty for directories). */
export function parseLsLine(line: string): FsEntry | undefined {
  const m = /^\/(\d+)\/([0-7]+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line);
  if (!m) return undefined;
  const mode = parseInt(m[2], 8);
  return { name: m[5], kind: kindOf(mode), size: Number(m[6] || 0), mode: mode & 0o7777, uid: Number(m[3]) };
}

export class Debugfs {
  private readonly image: string;
  private readonly workDir: string;
  private runs = 0;
  constructor(image: string, offset: number, workDir: string) {
    this.image = `${image}?offset=${offset}`;
    this.workDir = workDir;
  }

  /** Runs the commands in one debugfs process; returns each command's standard output. */
  private async batch(commands: string[]): Promise<string[]> {
    if (!commands.length) return [];
    const file = join(this.workDir, `commands-${this.runs++}`);
    await writeFile(file, commands.join('\n') + '\n');
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile('debugfs', ['-c', '-f', file, this.image], { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } },
        (err, out, stderr) => (err ? reject(new Error(`debugfs failed: ${stderr.trim() || err.message}`)) : resolve(out)));
    });
    // With -f, debugfs echoes each command as `debugfs: COMMAND` before its output.
    const outputs = commands.map(() => '');
    let current = -1;
    for (const line of stdout.split('\n')) {
      if (current + 1 < commands.length && line === `debugfs: ${commands[current + 1]}`) {
        current++;
        continue;
      }
      if (current >= 0) outputs[current] += line + '\n';
    }
    return outputs;
  }

  async listDirs(paths: string[]): Promise<Map<string, FsEntry[]>> {
    const asked = [...new Set(paths.filter(askable))];
    const outputs = await this.batch(asked.map((p) => `ls -p "${p}"`));
    const out = new Map<string, FsEntry[]>();
    asked.forEach((path, i) => {
      const entries = outputs[i].split('\n').map(parseLsLine).filter((e): e is FsEntry => e !== undefined);
      // A directory always lists `.`; nothing listed means it does not exist (or is no directory).
      if (!entries.some((e) => e.name === '.')) return;
      out.set(path, entries.filter((e) => e.name !== '.' && e.name !== '..'));
    });
    return out;
  }

  async readFiles(paths: string[]): Promise<Map<string, Buffer>> {
    const asked = [...new Set(paths.filter(askable))];
    const base = this.runs;
    const dest = (i: number) => join(this.workDir, `file-${base}-${i}`);
    await this.batch(asked.map((p, i) => `dump "${p}" "${dest(i)}"`));
    const out = new Map<string, Buffer>();
    for (const [i, path] of asked.entries()) {
      const data = await readFile(dest(i)).catch(() => undefined);
      if (data) out.set(path, data);
      await rm(dest(i), { force: true });
    }
    return out;
  }
}
