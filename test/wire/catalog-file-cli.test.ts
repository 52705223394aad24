// `amiforge serve --catalog FILE` with a faulty file stops before it opens the database, with one
// line naming the file, the entry and the field: never the store's constraint message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'amiforge-catalog-file-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts serve on `images` (the shipped catalogue's first two entries, changed) and waits for it to exit. */
function serveWith(name: string, images: unknown[]): Promise<{ code: number | null; stderr: string; dataDir: string }> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ images }));
  const dataDir = join(dir, `${name}-data`);
  const args = [join(ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', '--data-dir', dataDir, '--catalog', file];
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { timeout: 60_000 }, (err, _stdout, stderr) => {
      resolve({ code: child.exitCode, stderr, dataDir });
    });
  });
}

const shipped = JSON.parse(readFileSync(join(ROOT, 'catalog/default.json'), 'utf8')).images as Record<string, any>[];
const [al2023, arm] = shipped;

test('the same image id twice: serve exits non-zero naming the file, the entry and the field', async () => {
  const r = await serveWith('same-id', [al2023, { ...arm, regions: { 'us-east-1': al2023.regions['us-east-1'] } }]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`same-id\\.json: entry 1 \\(name "${arm.name}", ${al2023.regions['us-east-1']} in us-east-1\\), field regions\\.us-east-1: image id ${al2023.regions['us-east-1']} is already used by entry 0`));
  assert.doesNotMatch(r.stderr, /constraint|SQLITE|at .*\.ts:\d+/);
  assert.ok(!existsSync(r.dataDir) || !readdirSync(r.dataDir).some((f) => f.startsWith('metadata')), 'the database was not touched');
});

test('the same owner and name twice in a region', async () => {
  const r = await serveWith('same-name', [al2023, { ...al2023, regions: { 'us-east-1': 'ami-0123456789abcdef0' } }]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /same-name\.json: entry 1 \(.*ami-0123456789abcdef0 in us-east-1\), field name: entry 0 already has owner \d{12} and name ".*" in us-east-1/);
  assert.doesNotMatch(r.stderr, /constraint|SQLITE/);
});

test('a missing field', async () => {
  const r = await serveWith('missing-field', [al2023, { ...arm, architecture: undefined }]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`missing-field\\.json: entry 1 \\(name "${arm.name}", .*\\), field architecture: must be one of`));
});
