// The public image catalogue: images with fixed ids that exist in every fresh amiforge, so
// scripts with hard-coded AMI ids (as written against AWS) work. Loaded at start-up and after
// a reset; loading is idempotent (an image already present is refreshed, not duplicated).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BLOCK_SIZE, type BlockStore } from '../ports/block-store.ts';
import type { SnapshotRecord } from '../ports/snapshot-repository.ts';
import type { BlockDeviceMapping } from '../protocol/ec2/types.generated.ts';
import type { MetadataStore, StoredImage } from '../ports/metadata-store.ts';
import { blockDevicesFromWire } from '../domain/images/image-wire.ts';
import { CatalogFileError, validateCatalog } from './catalog-validation.ts';

export interface CatalogImage {
  /** region name -> the image's id there (ami-, aki- or ari-: ids differ per region, as in AWS). */
  regions: Record<string, string>;
  /**
   * `machine` (the default), or `kernel` / `ramdisk`: the images a paravirtual machine image
   * boots (aki-..., ari-...), listed as EC2 listed them: instance-store-backed, with a manifest
   * location and no block device mapping. Their content is `file`.
   */
  imageType?: 'machine' | 'kernel' | 'ramdisk';
  /** A kernel or ramdisk image's file, relative to the build directory (e.g. `base-image/vmlinux`). */
  file?: string;
  /** The manifest location EC2 reports (kernel and ramdisk images); default `OWNER/NAME`. */
  imageLocation?: string;
  ownerId: string;
  ownerAlias?: string;
  name: string;
  description?: string;
  architecture: StoredImage['architecture'];
  platformDetails?: string;
  /** A machine image's root device (kernel and ramdisk images have none). */
  rootDeviceName?: string;
  virtualizationType?: StoredImage['virtualizationType'];
  /** A paravirtual image's kernel and ramdisk: the `name` of a catalogue kernel / ramdisk image, resolved per region. */
  kernel?: string;
  ramdisk?: string;
  bootMode?: StoredImage['bootMode'];
  enaSupport?: boolean;
  imdsSupport?: 'v2.0';
  creationDate: string;
  blockDeviceMappings?: BlockDeviceMapping[];
  /**
   * The root snapshot holds a built disk, so the image really boots under `--hypervisor qemu`:
   * `base-image` is the base image's rootfs.raw (scripts/build-base-image.sh, docs/base-image.md);
   * any other name is a disk build in the build directory (buildDir/NAME) with its block manifest (blocks.json
   * and blocks/, from scripts/build-NAME-image.sh: `debian-12`, docs/debian-image.md). Without
   * the build the image is left out (loadCatalog's onSkipped says which script builds it).
   */
  rootDisk?: string;
}

export interface LoadCatalogOptions {
  /** Where the built base image is (rootfs.raw); images with `rootDisk: base-image` need it. */
  baseImageDir?: string;
  /**
   * The build directory: kernel and ramdisk images' `file` is relative to it, and each `rootDisk`
   * name other than base-image is a disk build in it (one directory each).
   */
  buildDir?: string;
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

/** The script that builds each `rootDisk`, for the log line when it is missing. */
const BUILD_SCRIPTS: Record<string, string> = { 'debian-12': 'scripts/build-debian-image.sh' };

/** A built disk's block manifest (scripts/disk-blocks.ts): non-zero blocks, by index. */
interface BlockManifest {
  blockSize: number;
  size: number;
  blocks: [number, string][];
}

/** A root disk given as block files already split and hashed at build time. */
interface PrebuiltBlocks {
  dir: string;
  manifest: BlockManifest;
}

function readManifest(dir: string): PrebuiltBlocks {
  const manifest = JSON.parse(readFileSync(join(dir, 'blocks.json'), 'utf8')) as BlockManifest;
  if (manifest.blockSize !== BLOCK_SIZE || !Array.isArray(manifest.blocks)) {
    throw new Error(`${dir}/blocks.json: not a manifest of ${BLOCK_SIZE}-byte blocks`);
  }
  return { dir: join(dir, 'blocks'), manifest };
}

/**
 * The catalogue file's images, every field and the rules between entries checked first
 * (catalog-validation.ts): a CatalogFileError names the file, the entry and the field.
 */
export function readCatalog(file: string): CatalogImage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CatalogFileError(`${file}: cannot read the catalogue as JSON (${(err as Error).message})`);
  }
  return validateCatalog(file, parsed);
}

/**
 * The files kernel and ramdisk images stand for, by image id (every region's), as the QEMU
 * driver's `kernelFiles` wants them; only files that exist.
 */
export function catalogFiles(images: CatalogImage[], buildDir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const img of images) {
    if (!img.file) continue;
    const path = resolve(buildDir, img.file);
    if (!existsSync(path)) continue;
    for (const id of Object.values(img.regions)) files.set(id, path);
  }
  return files;
}

/** A kernel or ramdisk image as EC2 listed one: instance-store-backed, from its manifest, no devices. */
function toStoredBootImage(img: CatalogImage, imageId: string): StoredImage {
  return {
    imageId: imageId,
    imageLocation: img.imageLocation ?? `${img.ownerAlias ?? img.ownerId}/${img.name}`,
    state: 'available',
    ownerId: img.ownerId,
    ownerAlias: img.ownerAlias,
    creationDate: img.creationDate,
    architecture: img.architecture,
    imageType: img.imageType,
    platformDetails: img.platformDetails ?? 'Linux/UNIX',
    usageOperation: 'RunInstances',
    hypervisor: 'xen',
    name: img.name,
    description: img.description,
    rootDeviceType: 'instance-store',
    blockDeviceMappings: [],
    virtualizationType: 'paravirtual',
    deregistrationProtection: 'disabled',
    freeTierEligible: false,
  };
}

/** The id of the catalogue image named `name` in `region`. */
const idIn = (images: CatalogImage[], name: string | undefined, region: string): string | undefined =>
  name === undefined ? undefined : images.find((x) => x.name === name)?.regions[region];

function toStored(img: CatalogImage, imageId: string, images: CatalogImage[], region: string): StoredImage {
  if ((img.imageType ?? 'machine') !== 'machine') return toStoredBootImage(img, imageId);
  return {
    imageId: imageId,
    imageLocation: `${img.ownerAlias ?? img.ownerId}/${img.name}`,
    state: 'available',
    ownerId: img.ownerId,
    ownerAlias: img.ownerAlias,
    creationDate: img.creationDate,
    architecture: img.architecture,
    imageType: 'machine',
    platformDetails: img.platformDetails ?? 'Linux/UNIX',
    usageOperation: 'RunInstances',
    enaSupport: img.enaSupport,
    hypervisor: 'xen',
    name: img.name,
    description: img.description,
    rootDeviceName: img.rootDeviceName,
    rootDeviceType: 'ebs',
    blockDeviceMappings: blockDevicesFromWire(img.blockDeviceMappings ?? []),
    virtualizationType: img.virtualizationType ?? 'hvm',
    kernelId: idIn(images, img.kernel, region),
    ramdiskId: idIn(images, img.ramdisk, region),
    bootMode: img.bootMode,
    imdsSupport: img.imdsSupport,
    deregistrationProtection: 'disabled',
    freeTierEligible: false,
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

type RootContent = { index: number; data: Buffer }[] | PrebuiltBlocks;

async function loadRootSnapshot(
  store: MetadataStore, blocks: BlockStore, img: CatalogImage, region: string, snapshotId: string, size: number,
  content: () => RootContent = () => rootBlocks(img),
): Promise<void> {
  if (await store.snapshots.get(region, snapshotId)) return;
  const record: SnapshotRecord = {
    region, snapshotId, ownerId: img.ownerId, ownerAlias: img.ownerAlias, volumeSize: size, state: 'completed',
    progress: 100, startTime: img.creationDate, completionTime: img.creationDate, description: `Root volume of ${img.name}`,
    volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 0, lastActivity: img.creationDate,
    createVolumePermissions: [{ Group: 'all' }],
  };
  const entries = [];
  const root = content();
  if (Array.isArray(root)) {
    for (const b of root) {
      const hash = createHash('sha256').update(b.data).digest('hex');
      await blocks.put(region, hash, b.data);
      entries.push({ index: b.index, hash });
    }
  } else {
    await storePrebuilt(blocks, region, root);
    for (const [index, hash] of root.manifest.blocks) entries.push({ index, hash });
  }
  await blocks.sync(region, new Set(entries.map((e) => e.hash)));
  record.blockCount = entries.length;
  // Nodes starting together on one database load the catalogue at once: a snapshot another node
  // inserted since the lookup is the same record. Its map is written all the same (entries are
  // upserts of the same values), so a node that died between the two writes leaves no empty map.
  await insertUnlessPresent(() => store.snapshots.insert(record), async () => (await store.snapshots.get(region, snapshotId)) !== undefined);
  await store.snapshots.putBlocks(snapshotId, entries);
}

/**
 * A built disk's blocks into one region: hard links where the store can adopt files (the
 * filesystem store), so seven regions cost no more than one copy; a copy through put otherwise.
 * A block the store already holds costs what its put of a known block costs (the object store:
 * one HEAD), so a reset after a load uploads nothing again.
 */
async function storePrebuilt(blocks: BlockStore, region: string, root: PrebuiltBlocks): Promise<void> {
  const hashes = [...new Set(root.manifest.blocks.map(([, hash]) => hash))];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < hashes.length) {
      const hash = hashes[next++];
      const file = join(root.dir, hash);
      if (blocks.adoptFile) await blocks.adoptFile(region, hash, file);
      else await blocks.put(region, hash, readFileSync(file));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Snapshot ids are per region: the catalogue's id for `region` is derived from its base id. */
function regionalSnapshotId(base: string, region: string): string {
  return `snap-0${createHash('sha256').update(`${base}/${region}`).digest('hex').slice(0, 16)}`;
}

/**
 * Runs `insert`; when it fails and `present` finds the record after all (another node loading the
 * catalogue inserted it in between), answers false instead of failing. The store's own duplicate
 * error differs by adapter, so the record's presence is what decides.
 */
async function insertUnlessPresent(insert: () => Promise<unknown>, present: () => Promise<boolean>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (err) {
    if (await present()) return false;
    throw err;
  }
}

export async function loadCatalog(store: MetadataStore, blocks: BlockStore, images: CatalogImage[], options: LoadCatalogOptions = {}): Promise<number> {
  let count = 0;
  // Kernel and ramdisk images first: a machine image whose kernel is left out is left out too.
  const ordered = [...images].sort((a, b) => Number((a.imageType ?? 'machine') === 'machine') - Number((b.imageType ?? 'machine') === 'machine'));
  const left = new Set<string>();
  for (const img of ordered) {
    if (img.file) {
      const file = options.buildDir && resolve(options.buildDir, img.file);
      if (!file || !existsSync(file)) {
        left.add(img.name);
        options.onSkipped?.(img, `its file is not built (no ${file ?? img.file}): run \`bash scripts/build-base-image.sh\``);
        continue;
      }
    }
    const without = [img.kernel, img.ramdisk].find((n) => n !== undefined && left.has(n));
    if (without) {
      options.onSkipped?.(img, `its ${without === img.kernel ? 'kernel' : 'ramdisk'} image ${without} is left out`);
      continue;
    }
    let content: (() => RootContent) | undefined;
    if (img.rootDisk && img.rootDisk !== 'base-image') {
      const dir = options.buildDir && join(options.buildDir, img.rootDisk);
      if (!dir || !existsSync(join(dir, 'blocks.json'))) {
        options.onSkipped?.(img, `its disk is not built (no ${dir ? join(dir, 'blocks.json') : 'image build directory'}): run \`bash ${BUILD_SCRIPTS[img.rootDisk] ?? `the script that builds ${img.rootDisk}`}\` (as root)`);
        continue;
      }
      const built = readManifest(dir);
      const volumeGiB = img.blockDeviceMappings?.find((m) => m.DeviceName === img.rootDeviceName)?.Ebs?.VolumeSize ?? 8;
      if (built.manifest.size > volumeGiB * 1024 ** 3) throw new Error(`catalogue image ${img.name}: its built disk is larger than its ${volumeGiB} GiB root volume`);
      content = () => built;
    } else if (img.rootDisk === 'base-image') {
      const file = options.baseImageDir && join(options.baseImageDir, 'rootfs.raw');
      if (!file || !existsSync(file)) {
        options.onSkipped?.(img, `the base image is not built (no ${file ?? 'base image directory'}): run \`bash scripts/build-base-image.sh\``);
        continue;
      }
      const manifest = join(options.baseImageDir!, 'blocks.json');
      if (existsSync(manifest) && statSync(manifest).mtimeMs >= statSync(file).mtimeMs) {
        // Split at build time (build-base-image.sh): adopted like the other disk builds.
        const built = readManifest(options.baseImageDir!);
        content = () => built;
      } else {
        // Read once per load, and only when a region lacks the snapshot.
        let read: { index: number; data: Buffer }[] | undefined;
        content = () => (read ??= readRootDisk(file));
      }
    }
    // Regions load side by side: on an object store each is hundreds of uploads.
    const loaded = await Promise.all(Object.entries(img.regions).map(async ([region, imageId]) => {
      const image = toStored(img, imageId, images, region);
      try {
        for (const m of image.blockDeviceMappings ?? []) {
          if (!m.ebs?.snapshotId) continue;
          const snapshotId = regionalSnapshotId(m.ebs.snapshotId, region);
          m.ebs = { ...m.ebs, snapshotId: snapshotId };
          await loadRootSnapshot(store, blocks, img, region, snapshotId, m.ebs.volumeSize ?? 8, content);
        }
      } catch (err) {
        // A build replaced while it was being loaded (a block file gone): the image waits for
        // the next start or reset rather than stopping the server.
        if (!img.rootDisk || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        return err as Error;
      }
      const record = { region, image, launchPermissions: [{ Group: 'all' as const }] };
      if (await store.images.get(region, imageId)) await store.images.update(record);
      else if (!(await insertUnlessPresent(() => store.images.insert(record), async () => (await store.images.get(region, imageId)) !== undefined))) {
        await store.images.update(record);
      }
      return undefined;
    }));
    const changed = loaded.find((r) => r !== undefined);
    if (changed) options.onSkipped?.(img, `its built disk changed while loading (${changed.message}); it is loaded at the next start or reset`);
    count += loaded.filter((r) => r === undefined).length;
  }
  return count;
}
