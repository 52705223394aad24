// The walk's bounds and order, on an in-memory filesystem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FsEntry, OfflineFilesystem } from '../../../ports/offline-filesystem.ts';
import { DEFAULT_LIMITS, walkForFindings } from './hygiene-walk.ts';

/** A filesystem from a map of file paths to contents (directories implied). */
function memoryFs(files: Record<string, string>): OfflineFilesystem & { reads: string[][]; lists: string[][] } {
  const dirs = new Map<string, FsEntry[]>();
  const add = (dir: string, e: FsEntry) => {
    const list = dirs.get(dir) ?? [];
    if (!list.some((x) => x.name === e.name)) list.push(e);
    dirs.set(dir, list);
  };
  for (const [path, data] of Object.entries(files)) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const dir = '/' + parts.slice(0, i).join('/');
      const last = i === parts.length - 1;
      add(dir === '/' ? '/' : dir, { name: parts[i], kind: last ? 'file' : 'dir', size: last ? data.length : 0, mode: 0o644, uid: 0 });
    }
  }
  const fs = {
    method: 'memory', reads: [] as string[][], lists: [] as string[][],
    async listDirs(paths: string[]) {
      fs.lists.push(paths);
      return new Map(paths.filter((p) => dirs.has(p)).map((p) => [p, dirs.get(p)!]));
    },
    async readFiles(paths: string[]) {
      fs.reads.push(paths);
      return new Map(paths.filter((p) => p in files).map((p) => [p, Buffer.from(files[p])]));
    },
    async close() {},
  };
  return fs;
}

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

test('keys are found down to the depth bound, not below; the bound is reported', async () => {
  const fs = memoryFs({
    '/home/bob/a/b/c/key': KEY,
    '/home/bob/a/b/c/d/e/f/g/too-deep': KEY,
    '/etc/hostname': 'x\n',
  });
  const r = await walkForFindings(fs, { ...DEFAULT_LIMITS, homeDepth: 4 });
  assert.deepEqual(r.findings.map((f) => f.path), ['/home/bob/a/b/c/key']);
  assert.equal(r.truncated, false, 'depth is a bound by design, not a truncation');
});

test('one reader run per directory level, one for all the files', async () => {
  const fs = memoryFs({ '/root/x/y/z': 'a', '/home/a/q': 'b', '/etc/hostname': 'c' });
  await walkForFindings(fs);
  assert.equal(fs.reads.length, 1);
  assert.ok(fs.lists.length <= 5, `${fs.lists.length} listing runs`);
});

test('large files are not read; too many files: the homes are read first and the scan says it stopped', async () => {
  const files: Record<string, string> = { '/home/a/big': 'x'.repeat(DEFAULT_LIMITS.maxFileBytes + 1), '/home/a/key': KEY };
  for (let i = 0; i < 30; i++) files[`/etc/conf.d/f${i}`] = 'v\n';
  const fs = memoryFs(files);
  const r = await walkForFindings(fs, { ...DEFAULT_LIMITS, maxFiles: 5 });
  assert.ok(!fs.reads[0].includes('/home/a/big'));
  assert.ok(fs.reads[0].includes('/home/a/key'));
  assert.equal(fs.reads[0].length, 5);
  assert.equal(r.truncated, true);
  assert.deepEqual(r.findings.map((f) => f.kind), ['private-key']);
});

test('leftovers: one finding per entry up to the bound, then one for the rest', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 25; i++) files[`/tmp/f${String(i).padStart(2, '0')}`] = '';
  files['/tmp/.X11-unix/X0'] = '';
  const r = await walkForFindings(memoryFs(files));
  assert.equal(r.findings.length, DEFAULT_LIMITS.maxLeftovers + 1);
  assert.match(r.findings.at(-1)!.detail, /and 5 more entries in \/tmp/);
  assert.ok(!r.findings.some((f) => f.path.includes('.X11-unix')));
});
