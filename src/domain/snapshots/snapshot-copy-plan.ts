// The record of a snapshot copy before it is stored: its id, key and data key, and where it
// copies from. CopySnapshot plans one; CopyImage one per EBS mapping of its image. Planning
// writes nothing, so a request whose key is refused leaves no trace.
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { Caller } from '../context.ts';
import type { EbsEncryption } from '../encryption/ebs-encryption.ts';
import { ec2KeyError } from '../encryption/lineage-keys.ts';
import { Errors } from '../errors.ts';

export interface CopyPlanDeps { clock: Clock; ids: IdGenerator; encryption: EbsEncryption }

export interface SnapshotCopyRequest {
  source: SnapshotRecord;
  /** Encrypted=true asks for an encrypted copy; false refuses to copy an encrypted source. */
  encrypted?: boolean;
  kmsKeyId?: string;
  description: string;
}

/** A pending copy of `req.source` owned by the caller, in the caller's region. */
export async function planSnapshotCopy(deps: CopyPlanDeps, caller: Caller, req: SnapshotCopyRequest): Promise<SnapshotRecord> {
  const { source } = req;
  if (source.state !== 'completed') throw Errors.snapshotIncorrectState(source.snapshotId, source.state);
  const snapshotId = deps.ids.next('snap');
  const encryption = await copyEncryption(deps, caller, req, snapshotId);
  const now = deps.clock.now().toISOString();
  return {
    region: caller.region,
    snapshotId,
    ownerId: caller.account,
    volumeSize: source.volumeSize,
    state: 'pending',
    progress: 0,
    startTime: now,
    description: req.description,
    volumeId: 'vol-ffffffff',
    encrypted: !!encryption,
    kmsKeyId: encryption?.kmsKeyId,
    dataKey: encryption?.dataKey,
    timeoutMinutes: 0,
    lastActivity: now,
    createVolumePermissions: [],
    copySource: { region: source.region, snapshotId: source.snapshotId },
  };
}

/**
 * The copy's key and data key. The caller's right to the source's key is checked now (and
 * again by the copier as it reads). A copy under the source's key, in its region, by its owner
 * keeps the lineage's data key and blocks; any other encrypted copy gets a new data key and
 * re-sealed blocks. Encrypted=false with an encrypted source is refused: copies never decrypt.
 */
async function copyEncryption(deps: CopyPlanDeps, caller: Caller, req: SnapshotCopyRequest, snapshotId: string) {
  const { source } = req;
  const keys = deps.encryption.keys;
  if (req.encrypted === false && source.encrypted) throw Errors.decryptingCopy();
  const sameLineage = source.encrypted && source.ownerId === caller.account && source.region === caller.region;
  try {
    if (source.dataKey) (await keys.open({ ...caller, region: source.region }, source.dataKey)).fill(0);
    const keyArn = await deps.encryption.target(caller, {
      encrypted: req.encrypted, kmsKeyId: req.kmsKeyId,
      sourceKeyArn: sameLineage ? source.kmsKeyId : undefined,
    }) ?? (source.encrypted ? await deps.encryption.target(caller, { encrypted: true }) : undefined);
    if (!keyArn) return undefined;
    if (sameLineage && keyArn === source.kmsKeyId) return { kmsKeyId: keyArn, dataKey: source.dataKey! };
    const made = await keys.create(caller, keyArn, snapshotId);
    made.plaintext.fill(0);
    return made.encryption;
  } catch (err) {
    throw ec2KeyError(err, req.kmsKeyId ?? source.kmsKeyId);
  }
}
