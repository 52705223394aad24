// The upload journal: FILE.amiforge-upload.jsonl beside the source, so that an upload cut off
// (Ctrl-C, a crash, a lost connection) continues the same pending snapshot when rerun.
//
// JSON lines, append-only: a header line naming the snapshot, then one line per block the
// service acknowledged, {"i":index,"c":"base64 SHA-256"}. A line is appended only after
// PutSnapshotBlock succeeded, with one write(2), so a crash loses at most lines of blocks in
// flight (which the rerun writes again: writing a block twice is harmless). A torn last line is
// ignored. Appending costs the same at block 10 as at block 10 million, unlike rewriting a JSON
// document. The journal is removed once the snapshot is completed.
import { createReadStream, closeSync, openSync, writeSync, fstatSync, readSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { BlockDigests } from './blocks.ts';

export const JOURNAL_SUFFIX = '.amiforge-upload.jsonl';
export const journalPathFor = (file: string): string => `${file}${JOURNAL_SUFFIX}`;

export interface JournalHeader {
  format: 'amiforge-upload-journal';
  version: 1;
  snapshotId: string;
  volumeSizeGiB: number;
  parentSnapshotId?: string;
  region?: string;
  /** The source file when the upload began; a changed file starts a new snapshot. */
  source: { size: number; mtimeMs: number };
  startedAt: string;
}

export interface Journal {
  header: JournalHeader;
  /** Blocks the service acknowledged, with their digests. */
  written: BlockDigests;
}

/** The journal at `path`, or undefined when there is none or it is unreadable. */
export async function readJournal(path: string): Promise<Journal | undefined> {
  let header: JournalHeader | undefined;
  const written = new BlockDigests();
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a torn line from a crash
      }
      if (!header) {
        const h = entry as JournalHeader;
        if (h?.format !== 'amiforge-upload-journal' || h.version !== 1 || typeof h.snapshotId !== 'string') return undefined;
        header = h;
        continue;
      }
      const { i, c } = entry as { i?: unknown; c?: unknown };
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || typeof c !== 'string') continue;
      const digest = Buffer.from(c, 'base64');
      if (digest.length === 32) written.set(i, digest);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return header && { header, written };
}

export class JournalWriter {
  private fd: number | undefined;
  readonly path: string;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** Starts a new journal (replacing any old one) with `header`. */
  static create(path: string, header: JournalHeader): JournalWriter {
    const fd = openSync(path, 'w', 0o644);
    writeSync(fd, `${JSON.stringify(header)}\n`);
    return new JournalWriter(path, fd);
  }

  /** Continues an existing journal. */
  static append(path: string): JournalWriter {
    const fd = openSync(path, 'a+');
    // A torn last line (no newline) would swallow the next entry: end it first.
    const size = fstatSync(fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) writeSync(fd, '\n');
    }
    return new JournalWriter(path, fd);
  }

  record(index: number, digest: Uint8Array): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `{"i":${index},"c":"${Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('base64')}"}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  async remove(): Promise<void> {
    this.close();
    await rm(this.path, { force: true });
  }
}
