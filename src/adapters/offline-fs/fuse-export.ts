// A disk served as a read-only file through FUSE, so a file-based reader (debugfs) reads only the
// parts it needs: the disk's bytes go out over NBD (src/adapters/qemu/nbd-server.ts) on a unix
// socket, and qemu-storage-daemon, as the NBD client, exports that block device over FUSE onto a
// regular file (`--export type=fuse`). Reads of the file become NBD reads, made on demand.
// Needs /dev/fuse and the right to mount (root, or fusermount3 for others).
import { spawn, type ChildProcess } from 'node:child_process';
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import type { DiskBytes } from '../../ports/offline-filesystem.ts';
import { NbdServer } from '../qemu/nbd-server.ts';

const READY_TIMEOUT_MS = 15_000;

export interface FuseExport {
  /** The file that reads as the disk. */
  readonly path: string;
  close(): Promise<void>;
}

/** Whether this machine can export over FUSE at all (the device and the daemon are there). */
export async function fuseAvailable(): Promise<boolean> {
  try {
    await access('/dev/fuse', constants.R_OK | constants.W_OK);
    await new Promise<void>((resolve, reject) => {
      const p = spawn('qemu-storage-daemon', ['--version'], { stdio: 'ignore' });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
    });
    return true;
  } catch {
    return false;
  }
}

const isMounted = async (path: string) => (await readFile('/proc/self/mounts', 'utf8')).split('\n').some((l) => l.split(' ')[1] === path);

export async function exportOverFuse(disk: DiskBytes, workDir: string): Promise<FuseExport> {
  const socket = join(workDir, 'disk.sock');
  const mountpoint = join(workDir, 'disk.img');
  const nbd = new NbdServer({
    name: 'disk', readOnly: true,
    export: { size: disk.size, read: (o, l) => disk.read(o, l), write: async () => { throw new Error('read-only'); }, flush: async () => {} },
  });
  await nbd.listen(socket);
  await writeFile(mountpoint, '');
  let log = '';
  const daemon: ChildProcess = spawn('qemu-storage-daemon', [
    '--blockdev', `driver=nbd,node-name=disk,server.type=unix,server.path=${socket},export=disk,read-only=on`,
    '--export', `type=fuse,id=disk,node-name=disk,mountpoint=${mountpoint},writable=off`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout!.on('data', (d) => (log += d));
  daemon.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const close = async () => {
    if (!gone) daemon.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (!gone) {
      daemon.kill('SIGKILL');
      await exited;
    }
    // A daemon killed hard leaves its mount behind: detach it so the work directory can go.
    if (await isMounted(mountpoint)) await new Promise((r) => spawn('umount', ['-l', mountpoint], { stdio: 'ignore' }).on('exit', r).on('error', r));
    await nbd.close();
  };
  // Mounted once the file reads as the whole disk.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while ((await stat(mountpoint)).size !== disk.size) {
    if (gone || Date.now() > deadline) {
      await close();
      throw new Error(`qemu-storage-daemon did not export the disk over FUSE: ${log.trim() || 'timed out'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { path: mountpoint, close };
}
