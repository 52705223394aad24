// The public image catalogue: images with fixed ids that exist in every fresh amiforge, so
// scripts with hard-coded AMI ids (as written against AWS) work. Loaded at start-up and after
// a reset; loading is idempotent (an image already present is refreshed, not duplicated).
import { readFileSync } from 'node:fs';
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
    BlockDeviceMappings: img.blockDeviceMappings,
    VirtualizationType: img.virtualizationType ?? 'hvm',
    BootMode: img.bootMode,
    ImdsSupport: img.imdsSupport,
    DeregistrationProtection: 'disabled',
    FreeTierEligible: false,
  };
}

export async function loadCatalog(store: MetadataStore, images: CatalogImage[]): Promise<number> {
  let count = 0;
  for (const img of images) {
    for (const [region, imageId] of Object.entries(img.regions)) {
      const record = { region, image: toStored(img, imageId), launchPermissions: [{ Group: 'all' as const }] };
      if (await store.images.get(region, imageId)) await store.images.update(record);
      else await store.images.insert(record);
      count++;
    }
  }
  return count;
}
