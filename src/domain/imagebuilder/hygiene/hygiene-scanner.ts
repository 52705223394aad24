// The hygiene scan of an AMI: its root snapshot read offline (no instance is launched), as the
// caller would launch it: the image must be visible to the caller, and an encrypted snapshot's
// data key is unwrapped as the caller (KMS checks its right to the key). The disk's partition
// table is read here; the filesystem through the OfflineFilesystems port (debugfs in the
// adapters). Findings come from hygiene-walk.ts and hygiene-rules.ts.
import type { BlockStore } from '../../../ports/block-store.ts';
import type { MetadataStore } from '../../../ports/metadata-store.ts';
import type { OfflineFilesystem, OfflineFilesystems } from '../../../ports/offline-filesystem.ts';
import type { Caller } from '../../context.ts';
import { ec2KeyError, type LineageKeys } from '../../encryption/lineage-keys.ts';
import type { Sealing } from '../../encryption/sealed-blocks.ts';
import { Errors } from '../../errors.ts';
import type { ImageService } from '../../images/image-service.ts';
import { DPKG_STATUS, installedPackages } from './dpkg-status.ts';
import type { HygieneReport, InstalledPackage } from './hygiene-types.ts';
import { findRootPartition } from './partition-table.ts';
import { snapshotDisk, type SnapshotDisk } from './snapshot-disk.ts';
import { DEFAULT_LIMITS, walkForFindings, type WalkLimits } from './hygiene-walk.ts';
import { listImagePackages, listImageScanFindings } from './image-builder-hygiene.ts';
import type {
  ListImagePackagesRequest, ListImagePackagesResponse, ListImageScanFindingsRequest, ListImageScanFindingsResponse,
} from '../../../protocol/imagebuilder/types.generated.ts';

export type { HygieneFinding, HygieneReport, HygieneSeverity, InstalledPackage } from './hygiene-types.ts';

export interface HygieneScannerDeps {
  store: MetadataStore;
  blocks: BlockStore;
  images: Pick<ImageService, 'findVisible'>;
  keys?: LineageKeys;
  filesystems: OfflineFilesystems;
  limits?: WalkLimits;
}

/** The package database is read whole; larger than this is no dpkg status file. */
const MAX_STATUS_BYTES = 64 * 1024 * 1024;

export class HygieneScanner {
  private readonly deps: HygieneScannerDeps;
  constructor(deps: HygieneScannerDeps) {
    this.deps = deps;
  }

  async scan(caller: Caller, imageId: string): Promise<HygieneReport> {
    const started = Date.now();
    const { disk, result, method } = await this.withRootFilesystem(caller, imageId, async (fs) => walkForFindings(fs, this.deps.limits ?? DEFAULT_LIMITS));
    const findings = [...result.findings];
    if (result.truncated) {
      findings.push({ severity: 'INFORMATIONAL', kind: 'scan-bounded', path: '/', detail: 'the walk of /root, /home and /etc stopped at its bounds: some files were not read' });
    }
    return { imageId, findings, bytesRead: disk.stats.bytesRead, filesRead: result.filesRead, durationMs: Date.now() - started, method };
  }

  /**
   * The packages dpkg lists as installed (Debian and its derivatives). An image without
   * /var/lib/dpkg/status (no dpkg: RPM-based or busybox-only systems) lists none.
   */
  async listPackages(caller: Caller, imageId: string): Promise<InstalledPackage[]> {
    const { result } = await this.withRootFilesystem(caller, imageId, async (fs) => {
      const lib = (await fs.listDirs(['/var/lib/dpkg'])).get('/var/lib/dpkg');
      const status = lib?.find((e) => e.name === 'status' && e.kind === 'file');
      if (!status || status.size > MAX_STATUS_BYTES) return [];
      const data = (await fs.readFiles([DPKG_STATUS])).get(DPKG_STATUS);
      return data ? installedPackages(data.toString('utf8')) : [];
    });
    return result;
  }

  /** Image Builder's ListImagePackages: the packages of the image build version's AMI in the caller's region. */
  listImagePackages(caller: Caller, req: ListImagePackagesRequest): Promise<ListImagePackagesResponse> {
    return listImagePackages(this.deps.store.imageBuilder, caller, req, (amiId) => this.listPackages(caller, amiId));
  }

  /** Image Builder's ListImageScanFindings: the findings stored on the caller's image build versions. */
  listImageScanFindings(caller: Caller, req: ListImageScanFindingsRequest): Promise<ListImageScanFindingsResponse> {
    return listImageScanFindings(this.deps.store.imageBuilder, caller, req);
  }

  private async withRootFilesystem<T>(caller: Caller, imageId: string, use: (fs: OfflineFilesystem) => Promise<T>): Promise<{ disk: SnapshotDisk; result: T; method: string }> {
    const record = await this.deps.images.findVisible(caller, imageId);
    const image = record.image;
    if (image.state !== 'available') throw Errors.incorrectState(`The image '${imageId}' is not in the available state (it is ${image.state}).`);
    const root = image.blockDeviceMappings?.find((m) => m.deviceName === image.rootDeviceName) ?? image.blockDeviceMappings?.[0];
    const snapshotId = root?.ebs?.snapshotId;
    if (!snapshotId) throw Errors.unsupportedOperation(`The image '${imageId}' has no EBS root snapshot to scan.`);
    const snapshot = await this.deps.store.snapshots.get(record.region, snapshotId);
    if (!snapshot || snapshot.state !== 'completed') throw Errors.incorrectState(`The root snapshot ${snapshotId} of image '${imageId}' is not completed.`);
    const sealing = await this.unlock(caller, snapshot);
    try {
      const disk = snapshotDisk(this.deps.store.snapshots, this.deps.blocks, snapshot, sealing);
      const partition = await findRootPartition(disk);
      if (!partition) throw Errors.unsupportedOperation(`No ext2/3/4 root filesystem was found on the root snapshot ${snapshotId} of image '${imageId}'.`);
      const fs = await this.deps.filesystems.open(disk, partition.offset);
      try {
        return { disk, result: await use(fs), method: fs.method };
      } finally {
        await fs.close();
      }
    } finally {
      sealing?.key.fill(0);
    }
  }

  private async unlock(caller: Caller, s: { encrypted: boolean; dataKey?: { wrapped: string; lineage: string }; kmsKeyId?: string }): Promise<Sealing | undefined> {
    if (!s.encrypted || !s.dataKey) return undefined;
    if (!this.deps.keys) throw new Error('the snapshot is encrypted and no KMS is wired to read it');
    try {
      return { key: await this.deps.keys.open(caller, s.dataKey), lineage: s.dataKey.lineage };
    } catch (err) {
      throw ec2KeyError(err, s.kmsKeyId);
    }
  }
}
