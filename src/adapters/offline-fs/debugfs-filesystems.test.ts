// debugfs reading planted ext4 disks (MBR, GPT, bare) over FUSE and as a sparse copy, and the
// walk's findings on them: the scan's whole path below the snapshot store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiskBytes } from '../../ports/offline-filesystem.ts';
import { findRootPartition } from '../../domain/imagebuilder/hygiene/partition-table.ts';
import { walkForFindings } from '../../domain/imagebuilder/hygiene/hygiene-walk.ts';
import { debugfsFilesystems } from './debugfs-filesystems.ts';
import { parseLsLine } from './debugfs.ts';
import { plantedDisk } from '../../../test/support/planted-disk.ts';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'offline-fs-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

async function fileDisk(path: string): Promise<DiskBytes & { bytesRead: number; close(): Promise<void> }> {
  const fh = await open(path, 'r');
  const size = (await fh.stat()).size;
  const disk = {
    size, bytesRead: 0,
    async read(offset: number, length: number) {
      disk.bytesRead += length;
      const buf = Buffer.alloc(length);
      await fh.read(buf, 0, length, offset);
      return buf;
    },
    async *storedRanges() { yield { offset: 0, length: size }; },
    close: () => fh.close(),
  };
  return disk;
}

test('ls -p lines: files, directories, symlinks, names with spaces', () => {
  assert.deepEqual(parseLsLine('/14/100600/0/0/id_rsa/1675/'), { name: 'id_rsa', kind: 'file', size: 1675, mode: 0o600, uid: 0 });
  assert.deepEqual(parseLsLine('/13/040755/1000/1000/a b//'), { name: 'a b', kind: 'dir', size: 0, mode: 0o755, uid: 1000 });
  assert.equal(parseLsLine('/15/120777/0/0/link/7/')?.kind, 'symlink');
  assert.equal(parseLsLine('debugfs: ls -p /x'), undefined);
});

const EXPECTED = [
  'HIGH authorized-keys /root/.ssh/authorized_keys',
  'HIGH cloud-credentials /home/alice/.aws/credentials',
  'HIGH private-key /home/alice/.ssh/id_rsa',
  'HIGH private-key /home/alice/projects/app/deploy/keys/deep.pem',
  'HIGH root-password /etc/shadow',
  'HIGH secret-in-environment /etc/environment',
  'HIGH ssh-host-key /etc/ssh/ssh_host_ed25519_key',
  'LOW cloud-init-instance /var/lib/cloud/instances/i-0123456789abcdef0',
  'LOW machine-id /etc/machine-id',
  'LOW temp-file /tmp/build.log',
  'MEDIUM authorized-keys /home/alice/.ssh/authorized_keys',
  'MEDIUM shell-history /home/alice/.bash_history',
];

for (const method of ['fuse', 'sparse-copy'] as const) {
  describe(`over ${method}`, () => {
    for (const table of ['mbr', 'gpt', 'none'] as const) {
      test(`a planted disk (${table}): every planted thing is found, nothing else`, async () => {
        const disk = await fileDisk(await plantedDisk(dir, { planted: true, table, name: `p-${method}-${table}`, diskBytes: 128 * 1024 * 1024 }));
        const part = await findRootPartition(disk);
        assert.ok(part, 'root partition found');
        const fs = await debugfsFilesystems({ method }).open(disk, part.offset);
        try {
          assert.equal(fs.method, method);
          const { findings, filesRead } = await walkForFindings(fs);
          assert.deepEqual(findings.map((f) => `${f.severity} ${f.kind} ${f.path}`).sort(), EXPECTED);
          assert.ok(filesRead > 5);
          const status = (await fs.readFiles(['/var/lib/dpkg/status'])).get('/var/lib/dpkg/status');
          assert.match(status!.toString(), /Package: openssh-server/);
          assert.equal((await fs.listDirs(['/no/such/dir'])).size, 0);
        } finally {
          await fs.close();
          await disk.close();
        }
      });
    }
  });
}

test('a clean disk scans with no findings; the work directory is removed on close', async () => {
  const disk = await fileDisk(await plantedDisk(dir, { planted: false, table: 'mbr' }));
  const fs = await debugfsFilesystems({ tempDir: dir }).open(disk, (await findRootPartition(disk))!.offset);
  const { findings } = await walkForFindings(fs);
  await fs.close();
  await disk.close();
  assert.deepEqual(findings, []);
  assert.ok(!readFileSync('/proc/self/mounts', 'utf8').includes(dir), 'no FUSE mount left');
});
