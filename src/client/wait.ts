// Snapshot state through EC2's DescribeSnapshots: a completed EBS direct upload may take a while
// to show as completed on AWS (amiforge completes at once).
// @aws-sdk/client-ec2 is loaded on first use: it is large (about 100 MB resident), and an
// upload needs it only before and after moving the blocks.
import type { EC2Client, Snapshot } from '@aws-sdk/client-ec2';
import { SnapshotClientError } from './errors.ts';
import { withRetry, type RetryOptions } from './retry.ts';

/** The snapshot, or undefined when EC2 does not know it (InvalidSnapshot.NotFound). */
export async function describeSnapshot(ec2: EC2Client, snapshotId: string, retry: RetryOptions = {}): Promise<Snapshot | undefined> {
  const { DescribeSnapshotsCommand } = await import('@aws-sdk/client-ec2');
  try {
    const out = await withRetry(() => ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })), retry);
    return out.Snapshots?.find((s) => s.SnapshotId === snapshotId);
  } catch (err) {
    if ((err as Error).name === 'InvalidSnapshot.NotFound') return undefined;
    throw err;
  }
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => {
    clearTimeout(t);
    reject(signal.reason);
  }, { once: true });
});

/** Polls until the snapshot is completed; throws if it fails or the time runs out. */
export async function waitForCompleted(ec2: EC2Client, snapshotId: string, o: { timeoutMs?: number; signal?: AbortSignal; retry?: RetryOptions } = {}): Promise<Snapshot> {
  const deadline = Date.now() + (o.timeoutMs ?? 2 * 3600_000);
  let delay = 250;
  let missing = 0;
  for (;;) {
    const s = await describeSnapshot(ec2, snapshotId, o.retry);
    if (s?.State === 'completed') return s;
    if (s?.State === 'error') {
      throw new SnapshotClientError(`snapshot ${snapshotId} failed${s.StateMessage ? `: ${s.StateMessage}` : ''}`);
    }
    // Just after CompleteSnapshot, EC2 may not list the snapshot yet (eventual consistency).
    if (!s && ++missing > 20) throw new SnapshotClientError(`snapshot ${snapshotId} is not known to EC2 (DescribeSnapshots); check --endpoint-url and --region`);
    if (Date.now() > deadline) {
      throw new SnapshotClientError(`snapshot ${snapshotId} is still ${s?.State ?? 'not visible'} after waiting; check it later with DescribeSnapshots`);
    }
    await sleep(delay, o.signal);
    delay = Math.min(10_000, delay * 1.5);
  }
}
