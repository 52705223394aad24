// `amiforge snapshot upload|download`: disk images to EBS snapshots and back, through the EBS
// direct APIs of any endpoint that implements them (amiforge, or AWS itself). The client and the
// AWS SDK are loaded when a command runs, not when the CLI starts.
import { Command } from 'commander';
import type { TransferProgress } from '../client/index.ts';
import {
  collectTag, CONNECTION_HELP, interruptible, makeClients, positiveInt, runCommand, withConnectionOptions,
  type Clients, type ConnectionOptions,
} from './aws.ts';
import { mib, progressDisplay, rate } from './progress.ts';

export interface UploadFlags extends ConnectionOptions {
  parent?: string;
  size?: number;
  description?: string;
  concurrency: number;
  tag?: Record<string, string>;
  resume: boolean;
}

interface DownloadFlags extends ConnectionOptions {
  concurrency: number;
  force: boolean;
}

export function snapshotCommand(): Command {
  const snapshot = new Command('snapshot')
    .description('Upload disk images as EBS snapshots, download snapshots as files (EBS direct APIs).');

  withConnectionOptions(snapshot.command('upload')
    .description('Upload a disk image (raw; qcow2, vmdk, vhdx and vdi through qemu-img) as a new EBS snapshot; prints its id.')
    .argument('<file>', 'the disk image')
    .option('--parent <snapshot-id>', 'upload incrementally: send only the blocks that differ from this completed snapshot')
    .option('--size <gib>', 'volume size in GiB (default: the file size rounded up, at least the parent\'s)', positiveInt('--size', 65536))
    .option('--description <text>', 'snapshot description')
    .option('--tag <key=value>', 'snapshot tag (repeatable)', collectTag)
    .option('--concurrency <n>', 'blocks sent at once', positiveInt('--concurrency', 256), 16)
    .option('--no-resume', 'ignore the journal of an interrupted upload and start a new snapshot'))
    .addHelpText('after', `
The file is read in 512 KiB blocks; blocks of zeros are not sent, and with --parent neither are
blocks the parent already holds. An interrupted upload (Ctrl-C, lost connection) leaves a journal,
FILE.amiforge-upload.jsonl; run the same command again to continue the same snapshot.
${CONNECTION_HELP}

Examples:
  amiforge snapshot upload disk.raw --description "web server root"
  amiforge snapshot upload disk.qcow2 --endpoint-url http://127.0.0.1:4566
  amiforge snapshot upload disk.raw --parent snap-0123456789abcdef0   # only changed blocks`)
    .action(async (file: string, flags: UploadFlags) => {
      let clients: Clients | undefined;
      await runCommand('snapshot upload', () => clients?.endpoint ?? flags.endpointUrl, async () => {
        clients = await makeClients(flags, flags.concurrency);
        const c = clients;
        const { uploadSnapshot } = await import('../client/index.ts');
        const { snapshotId } = await withUploadDisplay(file, async (hooks) => ({
          snapshotId: await uploadSnapshot({ file, ebs: c.ebs, ec2: c.ec2, description: flags.description, ...uploadFlags(flags), ...hooks }),
        }));
        process.stdout.write(`${snapshotId}\n`);
      });
    });

  withConnectionOptions(snapshot.command('download')
    .description('Download a completed snapshot to a sparse raw file.')
    .argument('<snapshot-id>', 'the snapshot')
    .argument('<file>', 'where to write it')
    .option('--concurrency <n>', 'blocks fetched at once', positiveInt('--concurrency', 256), 16)
    .option('-f, --force', 'overwrite FILE if it exists', false))
    .addHelpText('after', `
Only the blocks the snapshot holds are fetched (each checked against its SHA-256); the rest of
the file stays holes. The file gets the size of the image uploaded (recorded by
'snapshot upload'), else the volume size.
${CONNECTION_HELP}

Example:
  amiforge snapshot download snap-0123456789abcdef0 disk.raw`)
    .action(async (snapshotId: string, file: string, flags: DownloadFlags) => {
      let clients: Clients | undefined;
      await runCommand('snapshot download', () => clients?.endpoint ?? flags.endpointUrl, async () => {
        clients = await makeClients(flags, flags.concurrency);
        const display = progressDisplay('downloading');
        const stop = interruptible((m) => display.notice(m));
        try {
          const { downloadSnapshot } = await import('../client/index.ts');
          const r = await downloadSnapshot({
            snapshotId, file, ebs: clients.ebs, ec2: clients.ec2, concurrency: flags.concurrency, overwrite: flags.force,
            signal: stop.signal, onProgress: (p) => display.update(p), onNotice: (m) => display.notice(m),
          });
          display.stop();
          const s = display.elapsed();
          process.stderr.write(`downloaded ${snapshotId} to ${file}: ${r.size} bytes, ${r.blocks} blocks fetched (${mib(r.blocks * 512 * 1024)}), `
            + `${r.blocksWritten} with data, in ${s.toFixed(1)} s (${rate(r.blocks * 512 * 1024, s)})\n`);
        } finally {
          display.stop();
          stop.dispose();
        }
      });
    });

  return snapshot;
}

export interface UploadHooks {
  signal: AbortSignal;
  onProgress: (p: Readonly<TransferProgress>) => void;
  onNotice: (message: string) => void;
}

/**
 * Runs an upload (`work` calls uploadSnapshot or importImage with the hooks given) behind the
 * progress display and Ctrl-C handling, then prints a summary line; the CLI's shared path.
 */
export async function withUploadDisplay<T extends { snapshotId: string }>(file: string, work: (hooks: UploadHooks) => Promise<T>): Promise<T> {
  const display = progressDisplay('uploading');
  const stop = interruptible((m) => display.notice(m));
  let last: TransferProgress | undefined;
  try {
    const result = await work({
      signal: stop.signal,
      onProgress: (p) => {
        last = { ...p };
        display.update(p);
        stop.sent(p.blocksTransferred);
      },
      onNotice: (m) => display.notice(m),
    });
    display.stop();
    const s = display.elapsed();
    const sent = last?.bytesTransferred ?? 0;
    process.stderr.write(`uploaded ${file} as ${result.snapshotId}: ${last?.blocksTransferred ?? 0} of ${last?.blocksTotal ?? 0} blocks sent (${mib(sent)}), `
      + `${last?.blocksSkipped ?? 0} skipped, in ${s.toFixed(1)} s (${rate(sent, s)})\n`);
    return result;
  } finally {
    display.stop();
    stop.dispose();
  }
}

export const uploadFlags = (flags: UploadFlags) => ({
  volumeSizeGiB: flags.size, parentSnapshotId: flags.parent, tags: flags.tag, concurrency: flags.concurrency, resume: flags.resume,
});
