// The public image catalogue: images with fixed ids that exist in every fresh amiforge, so
// scripts with hard-coded AMI ids (as written against AWS) work. Loaded at start-up and after
// a reset; loading is idempotent (an image already present is refreshed, not duplicated).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCK_SIZE, type BlockStore } from '../ports/block-store.ts';
import type { SnapshotRecord } from '../ports/snapshot-repository.ts';
import type { BlockDeviceMapping } from '../protocol/ec2/types.generated.ts';
import type { MetadataStore, StoredImage } from '../ports/metadata-store.ts';
import { findRegion } from '../domain/regions.ts';
import { isResourceId } from '../domain/resource-ids.ts';

export interface CatalogImage {
  /** region name -> the image's id there (AMI ids differ per region, as in AWS). */
  regions: Record<string, string>;
  ownerId: string;
  ownerAlias?: string;
  name: string;
  description?: string;
  architecture: StoredImage['Architecture'];
  platformDetails?: string;
  rootDeviceName: string;
  virtualizationType?: StoredImage['VirtualizationType'];
  bootMode?: StoredImage['BootMode'];
  enaSupport?: boolean;
  imdsSupport?: 'v2.0';
  creationDate: string;
  blockDeviceMappings: BlockDeviceMapping[];
  /**
   * `base-image`: the root snapshot holds the built base image's root disk (rootfs.raw from
   * scripts/build-base-image.sh, docs/base-image.md), so the image really boots under
   * `--hypervisor qemu`. Without a build the image is left out (loadCatalog's onSkipped says so).
   */
  rootDisk?: 'base-image';
}

export interface LoadCatalogOptions {
  /** Where the built base image is (rootfs.raw); images with `rootDisk: base-image` need it. */
  baseImageDir?: string;
  /** Called for each image left out, with the reason. */
  onSkipped?: (img: CatalogImage, reason: string) => void;
}

/** The base image's root disk as 512 KiB blocks, all-zero blocks left out (as EBS stores them). */
function readRootDisk(file: string): { index: number; data: Buffer }[] {
  const raw = readFileSync(file);
  const zero = Buffer.alloc(BLOCK_SIZE);
  const out: { index: number; data: Buffer }[] = [];
  for (let index = 0; index * BLOCK_SIZE < raw.length; index++) {
    const data = Buffer.alloc(BLOCK_SIZE);
    raw.copy(data, 0, index * BLOCK_SIZE, Math.min(raw.length, (index + 1) * BLOCK_SIZE));
    if (!data.equals(zero)) out.push({ index, data });
  }
  return out;
}

export function readCatalog(file: string): CatalogImage[] {
  let parsed: { images?: CatalogImage[] };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read the catalogue as JSON (${(err as Error).message})`);
  }
  const images = parsed.images ?? [];
  for (const img of images) {
    for (const [region, id] of Object.entries(img.regions)) {
      if (!findRegion(region)) throw new Error(`${file}: image ${img.name}: unknown region ${region}`);
      if (!isResourceId('ami', id)) throw new Error(`${file}: image ${img.name}: malformed id ${id}`);
    }
    if (!/^\d{12}$/.test(img.ownerId)) throw new Error(`${file}: image ${img.name}: owner must be a 12-digit account`);
  }
  return images;
}

function toStored(img: CatalogImage, imageId: string): StoredImage {
  return {
    ImageId: imageId,
    ImageLocation: `${img.ownerAlias ?? img.ownerId}/${img.name}`,
    State: 'available',
    OwnerId: img.ownerId,
    ImageOwnerAlias: img.ownerAlias,
    CreationDate: img.creationDate,
    Architecture: img.architecture,
    ImageType: 'machine',
    PlatformDetails: img.platformDetails ?? 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    EnaSupport: img.enaSupport,
    Hypervisor: 'xen',
    Name: img.name,
    Description: img.description,
    RootDeviceName: img.rootDeviceName,
    RootDeviceType: 'ebs',
    BlockDeviceMappings: structuredClone(img.blockDeviceMappings),
    VirtualizationType: img.virtualizationType ?? 'hvm',
    BootMode: img.bootMode,
    ImdsSupport: img.imdsSupport,
    DeregistrationProtection: 'disabled',
    FreeTierEligible: false,
  };
}

/**
 * The root snapshot's contents: a first block that names the image, so a volume made from it can
 * be told apart; the catalogue's images stand in for AWS's and carry no operating system.
 */
function rootBlocks(img: CatalogImage): { index: number; data: Buffer }[] {
  const data = Buffer.alloc(BLOCK_SIZE);
  data.write(`amiforge catalogue image\nname: ${img.name}\narchitecture: ${img.architecture}\n`, 0, 'utf8');
  return [{ index: 0, data }];
}

async function loadRootSnapshot(
  store: MetadataStore, blocks: BlockStore, img: CatalogImage, region: string, snapshotId: string, size: number,
  content: () => { index: number; data: Buffer }[] = () => rootBlocks(img),
): Promise<void> {
  if (await store.snapshots.get(region, snapshotId)) return;
  const record: SnapshotRecord = {
    region, snapshotId, ownerId: img.ownerId, ownerAlias: img.ownerAlias, volumeSize: size, state: 'completed',
    progress: 100, startTime: img.creationDate, completionTime: img.creationDate, description: `Root volume of ${img.name}`,
    volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 0, lastActivity: img.creationDate,
    createVolumePermissions: [{ Group: 'all' }],
  };
  const entries = [];
  for (const b of content()) {
    const hash = createHash('sha256').update(b.data).digest('hex');
    await blocks.put(region, hash, b.data);
    entries.push({ index: b.index, hash });
  }
  await blocks.sync(region, entries.map((e) => e.hash));
  record.blockCount = entries.length;
  await store.snapshots.insert(record);
  await store.snapshots.putBlocks(snapshotId, entries);
}

/** Snapshot ids are per region: the catalogue's id for `region` is derived from its base id. */
function regionalSnapshotId(base: string, region: string): string {
  return `snap-0${createHash('sha256').update(`${base}/${region}`).digest('hex').slice(0, 16)}`;
}

export async function loadCatalog(store: MetadataStore, blocks: BlockStore, images: CatalogImage[], options: LoadCatalogOptions = {}): Promise<number> {
  let count = 0;
  for (const img of images) {
    let content: (() => { index: number; data: Buffer }[]) | undefined;
    if (img.rootDisk === 'base-image') {
      const file = options.baseImageDir && join(options.baseImageDir, 'rootfs.raw');
      if (!file || !existsSync(file)) {
        options.onSkipped?.(img, `the base image is not built (no ${file ?? 'base image directory'}): run \`bash scripts/build-base-image.sh\``);
        continue;
      }
      // Read once per load, and only when a region lacks the snapshot.
      let read: { index: number; data: Buffer }[] | undefined;
      content = () => (read ??= readRootDisk(file));
    }
    for (const [region, imageId] of Object.entries(img.regions)) {
      const image = toStored(img, imageId);
      for (const m of image.BlockDeviceMappings ?? []) {
        if (!m.Ebs?.SnapshotId) continue;
        const snapshotId = regionalSnapshotId(m.Ebs.SnapshotId, region);
        m.Ebs = { ...m.Ebs, SnapshotId: snapshotId };
        await loadRootSnapshot(store, blocks, img, region, snapshotId, m.Ebs.VolumeSize ?? 8, content);
      }
      const record = { region, image, launchPermissions: [{ Group: 'all' as const }] };
      if (await store.images.get(region, imageId)) await store.images.update(record);
      else await store.images.insert(record);
      count++;
    }
  }
  return count;
}
