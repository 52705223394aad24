// Proof that instances really boot: the base image (scripts/build-base-image.sh) is imported into
// the block store as a snapshot, a volume is made from it and exported over the NBD server, and
// QEMU boots Debian's kernel on it (KVM when it really works here, else TCG) with the metadata
// responder behind 169.254.169.254. The guest runs its user data, which writes a file; after a
// clean shutdown the file is read back out of the volume. A second boot of the same instance
// must not run the user data again. Only the blocks the guest touches may be read from the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { FsBlockStore } from '../fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../sqlite/sqlite-store.ts';
import { VolumeData } from '../../domain/volumes/volume-data.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import { importRawImage, makeVolume } from '../../../test/support/qemu.ts';
import { MetadataResponder } from './metadata-responder.ts';
import { NbdServer } from './nbd-server.ts';
import { detectAccelerator, guestCommand } from './qemu-command.ts';
import { QmpClient } from './qmp.ts';
import { volumeExport } from './volume-export.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');
const image = join(repo, '.amiforge-build', 'base-image');
const INSTANCE = 'i-0b00710c0ffee0001';
const BOOT_TIMEOUT_MS = 120_000;

interface Boot {
  console: string;
  /** From QEMU's start to the guest's "boot finished" line. */
  bootMs: number;
  /** From the Ctrl-Alt-Del to QEMU's exit. */
  shutdownMs: number;
  bytesRead: number;
  blocksRead: number;
  nbd: NbdServer['stats'];
  /** The guest's own uptime at "boot finished" (kernel start to the end of its boot script). */
  guestUptime: string;
}

async function waitFor(file: string, text: string, qemu: ChildProcess, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await readFile(file, 'latin1').catch(() => '');
    if (out.includes(text)) return out;
    if (qemu.exitCode !== null || qemu.signalCode !== null) throw new Error(`QEMU exited before "${text}":\n${out}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" on the console within ${timeoutMs} ms:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Boots the guest on `vol` once, up to "boot finished", then shuts it down cleanly. */
async function boot(dir: string, data: VolumeData, vol: VolumeRecord, userData: Buffer, name: string): Promise<Boot> {
  const nbd = new NbdServer({ export: volumeExport(data, vol), name: 'root', onError: (e) => console.error('nbd:', e) });
  const imds = new MetadataResponder({ metadata: { 'instance-id': INSTANCE, 'local-hostname': 'ip-169-254-0-15' }, userData });
  const sockets = { nbd: join(dir, `${name}.nbd`), imds: join(dir, `${name}.imds`), qmp: join(dir, `${name}.qmp`) };
  const serialLog = join(dir, `${name}.console`);
  await nbd.listen(sockets.nbd);
  await imds.listen(sockets.imds);
  const kernel = join(image, 'vmlinux');
  const initrd = join(image, 'initramfs.cpio');
  const accel = await detectAccelerator(kernel, initrd);
  const args = guestCommand({
    kernel, initrd, accel, memoryMiB: 256, vcpus: 1, cmdline: process.env.AMIFORGE_BOOT_VERBOSE ? '' : 'quiet',
    root: { socket: sockets.nbd, exportName: 'root' }, metadataSocket: sockets.imds, serialLog, qmpSocket: sockets.qmp,
  });
  const before = { ...data.stats };
  const started = Date.now();
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr!.on('data', (c: Buffer) => (stderr += c));
  const exited = new Promise<void>((r) => qemu.on('close', () => r()));
  try {
    await waitFor(serialLog, 'amiforge: boot finished', qemu, BOOT_TIMEOUT_MS);
    const bootMs = Date.now() - started;
    const bytesRead = data.stats.bytesRead - before.bytesRead;
    const blocksRead = data.stats.blocksRead - before.blocksRead;
    const qmp = await QmpClient.connect(sockets.qmp);
    const stopping = Date.now();
    await qmp.sendCtrlAltDel();
    const timeout = setTimeout(() => qemu.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timeout);
    qmp.close();
    assert.equal(qemu.signalCode, null, `QEMU had to be killed: the guest did not power off\n${stderr}\n${await readFile(serialLog, 'latin1')}`);
    const output = await readFile(serialLog, 'latin1');
    const guestUptime = /boot finished \(uptime ([\d.]+) s\)/.exec(output)?.[1] ?? '?';
    return { console: output, bootMs, shutdownMs: Date.now() - stopping, bytesRead, blocksRead, nbd: { ...nbd.stats }, guestUptime };
  } finally {
    if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
    await exited;
    await nbd.close();
    await imds.close();
  }
}

test('the base image boots from a volume over NBD, runs its user data once, and the data lands in the volume', { timeout: 600_000 }, async (t) => {
  const built = Date.now();
  await run('bash', [join(repo, 'scripts', 'build-base-image.sh')], { maxBuffer: 16 * 1024 * 1024 });
  t.diagnostic(`base image ready in ${Date.now() - built} ms`);
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-boot-'));
  const store = new SqliteMetadataStore(join(dir, 'metadata.sqlite'));
  const blocks = new FsBlockStore({ root: join(dir, 'blocks') });
  try {
    // The base image is nearly empty; 24 MiB of data no boot reads (as in any real image) is
    // what makes "reads only what the guest touches" measurable.
    const rootfs = join(dir, 'rootfs.raw');
    await copyFile(join(image, 'rootfs.raw'), rootfs);
    await writeFile(join(dir, 'payload.bin'), randomBytes(24 * 1024 * 1024));
    await run('debugfs', ['-w', '-R', `write ${join(dir, 'payload.bin')} /root/payload.bin`, rootfs]);
    const imageBytes = (await stat(rootfs)).size;
    const { storedBytes } = await importRawImage(store, blocks, rootfs, 'snap-0b00710c0ffee0001');
    const vol = await makeVolume(store, 'vol-0b00710c0ffee0001', 1, 'snap-0b00710c0ffee0001');
    const data = new VolumeData({ store, blocks });
    const userData = Buffer.from('#!/bin/sh\necho "written by user data on $(cat /proc/sys/kernel/hostname)" >/root/hello.txt\necho "amiforge-test: user data ran"\n');

    const first = await boot(dir, data, vol, userData, 'first');
    t.diagnostic(`first boot: ${first.bootMs} ms to "boot finished", shutdown ${first.shutdownMs} ms; read ${first.bytesRead} bytes (${first.blocksRead} blocks) of a ${imageBytes}-byte image (${storedBytes} stored); guest uptime ${first.guestUptime} s; NBD ${JSON.stringify(first.nbd)}`);
    if (process.env.AMIFORGE_BOOT_VERBOSE) console.log(first.console);
    assert.match(first.console, /amiforge-minimal-linux booting/);
    assert.match(first.console, new RegExp(`amiforge: instance-id ${INSTANCE}`));
    assert.match(first.console, /amiforge-test: user data ran/);
    assert.match(first.console, /amiforge: user-data done \(exit 0\)/);
    assert.match(first.console, /amiforge: shutting down/);
    // Lazy: the guest reads filesystem metadata and busybox, not the whole disk.
    assert.ok(first.bytesRead < storedBytes / 4, `boot read ${first.bytesRead} of ${storedBytes} stored bytes`);

    const second = await boot(dir, data, vol, userData, 'second');
    t.diagnostic(`second boot: ${second.bootMs} ms to "boot finished", shutdown ${second.shutdownMs} ms; read ${second.bytesRead} bytes (${second.blocksRead} blocks); guest uptime ${second.guestUptime} s; NBD ${JSON.stringify(second.nbd)}`);
    assert.match(second.console, new RegExp(`amiforge: user-data already ran for ${INSTANCE}`));
    assert.doesNotMatch(second.console, /amiforge-test: user data ran/);

    // The volume's bytes, read back through VolumeData, are a clean ext4 holding what the guest wrote.
    const copy = join(dir, 'volume.raw');
    await writeFile(copy, await data.read(vol, 0, imageBytes));
    const cat = async (path: string) => (await run('debugfs', ['-R', `cat ${path}`, copy])).stdout;
    assert.equal(await cat('/root/hello.txt'), 'written by user data on ip-169-254-0-15\n');
    assert.equal(await cat('/var/lib/amiforge/user-data-instance'), `${INSTANCE}\n`);
    await run('e2fsck', ['-fn', copy]);
    const own = await store.volumes.ownBlocks(vol.volumeId);
    t.diagnostic(`the volume holds ${own.length} blocks of its own; the snapshot is unchanged`);
    assert.equal(await store.snapshots.countBlocks('snap-0b00710c0ffee0001'), storedBytes / (512 * 1024));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
