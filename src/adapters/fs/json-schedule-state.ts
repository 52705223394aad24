// Copy schedules' run state as one small JSON file in the data directory, replaced atomically
// (written beside, fsynced, renamed) so a crash leaves the old state or the new, never half.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CopyScheduleState, CopyScheduleStateStore } from '../../ports/copy-schedule-state.ts';

export class JsonScheduleStateStore implements CopyScheduleStateStore {
  private readonly file: string;
  private states = new Map<string, CopyScheduleState>();
  /** Saves one after another, each writing the whole map. */
  private queue: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
  }

  async load(): Promise<Map<string, CopyScheduleState>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw err;
    }
    const parsed = JSON.parse(text) as { schedules?: Record<string, CopyScheduleState> };
    this.states = new Map(Object.entries(parsed.schedules ?? {}));
    return new Map(this.states);
  }

  save(name: string, state: CopyScheduleState): Promise<void> {
    this.states.set(name, structuredClone(state));
    const body = JSON.stringify({ schedules: Object.fromEntries(this.states) }, null, 2);
    this.queue = this.queue.catch(() => {}).then(() => this.write(body));
    return this.queue;
  }

  private async write(body: string): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}
