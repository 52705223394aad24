// The console file: everything a guest writes, in order, handed to the watcher; a guest that
// floods its console leaves a file of bounded size ending with its latest output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleLog } from './console-log.ts';

test('writes what arrives, keeps the file under its cap with the newest output last', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-console-'));
  try {
    const file = join(dir, 'console.log');
    let seen = 0;
    const log = new ConsoleLog({ file, keepBytes: 64 * 1024, maxFileBytes: 256 * 1024, onOutput: (c) => (seen += c.length) });
    await log.listen(join(dir, 'console.sock'));
    const guest = connect(join(dir, 'console.sock'));
    await new Promise<void>((r) => guest.once('connect', () => r()));
    guest.write('first line\n');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await readFile(file, 'utf8'), 'first line\n');
    // 8 MiB of flood, then a last line.
    const line = Buffer.from(`${'x'.repeat(1023)}\n`);
    for (let i = 0; i < 8192; i++) guest.write(line);
    await new Promise<void>((r) => guest.end('the last line\n', () => r()));
    await new Promise((r) => setTimeout(r, 200));
    await log.close();
    const { size } = await stat(file);
    assert.ok(size <= 256 * 1024, `the file stays capped (${size} bytes)`);
    assert.ok((await readFile(file, 'utf8')).endsWith('x\nthe last line\n'));
    assert.equal(seen, 11 + 8192 * 1024 + 14, 'the watcher saw every byte');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
