// The node id when --node-id is not given: made once and kept in the data directory, so a node
// restarted after a crash recognises its own leases and takes its work back at once, instead of
// waiting for them to expire as it would for another node's.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function persistedNodeId(dataDir: string): string {
  const file = join(dataDir, 'node-id');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const id = `node-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(file, `${id}\n`, { flag: 'wx', mode: 0o644 });
    return id;
  } catch (err) {
    // Another process made it first: use that one.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}
