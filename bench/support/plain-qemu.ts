// The reference for a boot: the same disk booted by plain qemu-system-x86_64 with the very
// options amiforge gave its guest (read from that guest's /proc/PID/cmdline), but from a local
// file instead of amiforge's NBD export, its console in a file, and the metadata service served
// by the same responder class in this process. What amiforge adds on top is the difference.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MetadataResponder } from '../../src/adapters/qemu/metadata-responder.ts';
import { GUEST_ADDRESS } from '../../src/adapters/qemu/qemu-command.ts';
import { freePort, memoryOf } from './servers.ts';
import { sleep, sshLogsIn } from './guests.ts';

const run = promisify(execFile);

export interface ReferenceBoot {
  firstLineMs: number;
  sshMs: number;
  doneMs: number;
  qemuRss: number;
}

export interface ReferenceOptions {
  /** amiforge's QEMU command line for the same image (argv, the binary first). */
  argv: string[];
  /** The image's raw disk; the guest writes to a copy-on-write overlay of `sizeGiB` over it. */
  rawDisk: string;
  sizeGiB: number;
  /** IMDS paths (meta-data/ and dynamic/) and user data, as amiforge served them. */
  metadata: Record<string, string>;
  dynamic: Record<string, string>;
  userData: Buffer;
  /** The private key whose public half is in `metadata`; ssh logs in as `user` with it. */
  key: string;
  user: string;
  done: RegExp;
  limitMs: number;
}

/** amiforge's argv with the root disk, console, QMP and metadata socket replaced by this run's own. */
export function referenceArgv(argv: string[], o: { disk: string; consoleLog: string; qmp: string; imds: string; sshPort: number }): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '-drive' && /(^|,)id=root(,|$)/.test(value)) {
      out.push(flag, `file=${o.disk},format=qcow2,if=none,id=root,cache=writeback`);
    } else if (flag === '-drive' && value.startsWith('file=nbd')) {
      throw new Error('the reference boots a root disk only');
    } else if (flag === '-chardev' && /id=serial0/.test(value)) {
      out.push(flag, `file,id=serial0,path=${o.consoleLog}`);
    } else if (flag === '-qmp') {
      out.push(flag, `unix:${o.qmp},server=on,wait=off`);
    } else if (flag === '-netdev') {
      out.push(flag, `${value.replace(/UNIX-CONNECT:[^,]+/, `UNIX-CONNECT:${o.imds}`)},hostfwd=tcp:127.0.0.1:${o.sshPort}-${GUEST_ADDRESS}:22`);
    } else if (flag.startsWith('-') && i + 1 < argv.length && !argv[i + 1].startsWith('-')) {
      out.push(flag, value);
    } else {
      out.push(flag);
      continue;
    }
    i++;
  }
  return out;
}

/** Boots the reference once and times it from QEMU's start; cleans up whatever it made. */
export async function bootReference(o: ReferenceOptions): Promise<ReferenceBoot> {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-bench-ref-'));
  const disk = join(dir, 'root.qcow2');
  const consoleLog = join(dir, 'console.log');
  const imds = new MetadataResponder({ metadata: o.metadata, dynamic: o.dynamic, userData: o.userData, httpTokens: 'optional' });
  await imds.listen(join(dir, 'imds.sock'));
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', o.rawDisk, disk, `${o.sizeGiB}G`]);
  const sshPort = await freePort();
  const args = referenceArgv(o.argv, { disk, consoleLog, qmp: join(dir, 'qmp.sock'), imds: join(dir, 'imds.sock'), sshPort });
  const t0 = performance.now();
  const qemu = spawn(o.argv[0], args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const elapsed = () => performance.now() - t0;
  const text = () => { try { return readFileSync(consoleLog, 'utf8'); } catch { return ''; } };
  try {
    let firstLineMs: number | undefined;
    let doneMs: number | undefined;
    let sshMs: number | undefined;
    let qemuRss = 0;
    const consoleWatch = (async () => {
      while (doneMs === undefined) {
        if (qemu.exitCode !== null) throw new Error(`the reference QEMU exited with ${qemu.exitCode}: ${stderr}`);
        if (elapsed() > o.limitMs) throw new Error(`the reference boot did not finish within ${o.limitMs / 1000} s`);
        const t = text();
        if (firstLineMs === undefined && t.trim()) firstLineMs = elapsed();
        if (o.done.test(t)) {
          doneMs = elapsed();
          qemuRss = memoryOf(qemu.pid!).rss;
        }
        await sleep(100);
      }
    })();
    const sshWatch = (async () => {
      while (sshMs === undefined && elapsed() < o.limitMs && qemu.exitCode === null) {
        if (await sshLogsIn(o.key, o.user, '127.0.0.1', sshPort)) sshMs = elapsed();
        else await sleep(1000);
      }
    })();
    await Promise.all([consoleWatch, sshWatch]);
    return { firstLineMs: firstLineMs!, sshMs: sshMs ?? NaN, doneMs: doneMs!, qemuRss };
  } finally {
    qemu.kill('SIGKILL');
    await imds.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
