// Checks a catalogue file before anything is stored: every field of every entry, the references
// between entries, and the rules the metadata store would otherwise enforce with a constraint
// message (an image id once; an owner's image name once per region, as EC2 requires). Each
// problem names the file, the entry (its index, name and an id) and the field, so the one line
// `amiforge serve` prints is enough to fix the file.
import { ec2Model } from '../protocol/ec2/model.ts';
import { findRegion } from '../domain/regions.ts';
import { isResourceId } from '../domain/resource-ids.ts';
import type { CatalogImage } from './catalog.ts';

export class CatalogFileError extends Error {}

const ID_PREFIX = { machine: 'ami', kernel: 'aki', ramdisk: 'ari' } as const;
const enumOf = (shape: string): readonly string[] => ec2Model.shapes[shape]?.enum ?? [];
const OPTIONAL_STRINGS = ['ownerAlias', 'description', 'platformDetails', 'imageLocation', 'file', 'rootDeviceName', 'kernel', 'ramdisk', 'rootDisk'] as const;

type Entry = Record<string, unknown>;

/** How an entry is named in a message: its index, its name and its first id, as far as they are usable. */
function labelOf(entry: unknown, index: number): string {
  const e = (entry && typeof entry === 'object' ? entry : {}) as Entry;
  const parts: string[] = [];
  if (typeof e.name === 'string') parts.push(`name "${e.name}"`);
  const regions = e.regions && typeof e.regions === 'object' ? Object.entries(e.regions as Record<string, unknown>) : [];
  const [region, id] = regions[0] ?? [];
  if (typeof id === 'string') parts.push(`${id} in ${region}`);
  return parts.length ? `entry ${index} (${parts.join(', ')})` : `entry ${index}`;
}

/** The parsed catalogue file as images, or a CatalogFileError naming the first problem. */
export function validateCatalog(file: string, parsed: unknown): CatalogImage[] {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CatalogFileError(`${file}: expecting an object with an "images" array`);
  const list = (parsed as { images?: unknown }).images ?? [];
  if (!Array.isArray(list)) throw new CatalogFileError(`${file}: field images: expecting an array of images`);
  list.forEach((entry, index) => checkEntry(entry, (field, problem) => new CatalogFileError(`${file}: ${labelOf(entry, index)}, field ${field}: ${problem}`)));
  const images = list as CatalogImage[];
  images.forEach((img, index) => checkReferences(img, images, (field, problem) => new CatalogFileError(`${file}: ${labelOf(img, index)}, field ${field}: ${problem}`)));
  checkUnique(images, (index, field, problem) => new CatalogFileError(`${file}: ${labelOf(images[index], index)}, field ${field}: ${problem}`));
  return images;
}

type Fail = (field: string, problem: string) => Error;

function checkEntry(entry: unknown, fail: Fail): void {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw fail('(the entry)', 'expecting an object');
  const e = entry as Entry;
  const type = e.imageType ?? 'machine';
  if (typeof type !== 'string' || !(type in ID_PREFIX)) throw fail('imageType', `must be machine, kernel or ramdisk, got ${JSON.stringify(e.imageType)}`);
  const prefix = ID_PREFIX[type as keyof typeof ID_PREFIX];
  if (!e.regions || typeof e.regions !== 'object' || Array.isArray(e.regions) || !Object.keys(e.regions).length) {
    throw fail('regions', 'expecting an object of region name to image id, with at least one region');
  }
  for (const [region, id] of Object.entries(e.regions as Record<string, unknown>)) {
    if (!findRegion(region)) throw fail(`regions.${region}`, `unknown region ${region}`);
    if (typeof id !== 'string' || !isResourceId(prefix, id)) throw fail(`regions.${region}`, `malformed id ${JSON.stringify(id)} (expecting ${prefix}-...)`);
  }
  if (typeof e.ownerId !== 'string' || !/^\d{12}$/.test(e.ownerId)) throw fail('ownerId', `owner must be a 12-digit account, got ${JSON.stringify(e.ownerId)}`);
  if (typeof e.name !== 'string' || e.name.length < 3 || e.name.length > 128) throw fail('name', `expecting 3 to 128 characters, got ${JSON.stringify(e.name)}`);
  if (!enumOf('ArchitectureValues').includes(e.architecture as string)) {
    throw fail('architecture', `must be one of ${enumOf('ArchitectureValues').join(', ')}, got ${JSON.stringify(e.architecture)}`);
  }
  if (typeof e.creationDate !== 'string' || Number.isNaN(Date.parse(e.creationDate))) {
    throw fail('creationDate', `expecting an ISO 8601 time such as 2024-12-12T00:00:00.000Z, got ${JSON.stringify(e.creationDate)}`);
  }
  for (const field of OPTIONAL_STRINGS) {
    if (e[field] !== undefined && (typeof e[field] !== 'string' || !e[field])) throw fail(field, `expecting a non-empty string, got ${JSON.stringify(e[field])}`);
  }
  const enums = { virtualizationType: 'VirtualizationType', bootMode: 'BootModeValues' } as const;
  for (const [field, shape] of Object.entries(enums)) {
    if (e[field] !== undefined && !enumOf(shape).includes(e[field] as string)) throw fail(field, `must be one of ${enumOf(shape).join(', ')}, got ${JSON.stringify(e[field])}`);
  }
  if (e.enaSupport !== undefined && typeof e.enaSupport !== 'boolean') throw fail('enaSupport', `expecting true or false, got ${JSON.stringify(e.enaSupport)}`);
  if (e.imdsSupport !== undefined && e.imdsSupport !== 'v2.0') throw fail('imdsSupport', `the only value is v2.0, got ${JSON.stringify(e.imdsSupport)}`);
  checkMappings(e.blockDeviceMappings, fail);
  if (type === 'machine' && !e.rootDeviceName) throw fail('rootDeviceName', 'a machine image needs rootDeviceName');
  if (type !== 'machine' && !e.file) throw fail('file', `a ${type} image needs the file it stands for`);
}

function checkMappings(mappings: unknown, fail: Fail): void {
  if (mappings === undefined) return;
  if (!Array.isArray(mappings)) throw fail('blockDeviceMappings', 'expecting an array of EC2 BlockDeviceMapping objects');
  mappings.forEach((m, i) => {
    if (!m || typeof m !== 'object' || typeof (m as Entry).DeviceName !== 'string') {
      throw fail(`blockDeviceMappings[${i}].DeviceName`, 'each mapping needs a DeviceName such as /dev/xvda');
    }
  });
}

function checkReferences(img: CatalogImage, images: CatalogImage[], fail: Fail): void {
  for (const role of ['kernel', 'ramdisk'] as const) {
    const name = img[role];
    if (name === undefined) continue;
    const target = images.find((x) => x.name === name && x.imageType === role);
    if (!target) throw fail(role, `${role} ${name} is not a ${role} image of the catalogue`);
    const missing = Object.keys(img.regions).filter((r) => !target.regions[r]);
    if (missing.length) throw fail(role, `${role} ${name} has no id in ${missing.join(', ')}`);
    if (img.virtualizationType !== 'paravirtual') throw fail(role, `only a paravirtual image names a ${role}`);
  }
}

/** Ids are unique across the file (as AWS's are), and an owner's image names per region (as EC2 requires). */
function checkUnique(images: CatalogImage[], fail: (index: number, field: string, problem: string) => Error): void {
  const ids = new Map<string, number>();
  const names = new Map<string, number>();
  images.forEach((img, index) => {
    for (const [region, id] of Object.entries(img.regions)) {
      const idOwner = ids.get(id);
      if (idOwner === index) throw fail(index, `regions.${region}`, `image id ${id} is given for two regions (ids differ per region)`);
      if (idOwner !== undefined) throw fail(index, `regions.${region}`, `image id ${id} is already used by entry ${idOwner} ("${images[idOwner].name}")`);
      ids.set(id, index);
      const key = `${region}\n${img.ownerId}\n${img.name}`;
      const nameOwner = names.get(key);
      if (nameOwner !== undefined) {
        throw fail(index, 'name', `entry ${nameOwner} already has owner ${img.ownerId} and name "${img.name}" in ${region} (an owner's image names are unique per region)`);
      }
      names.set(key, index);
    }
  });
}
