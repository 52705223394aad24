// Many images in a metadata store, inserted through its repository as RegisterImage would store
// them (no snapshots behind them): for the console's image table tests and benchmark. Names,
// creation dates, architectures and tags vary by a fixed pseudo-random sequence, so sorted
// pages differ from id order and a run is repeatable.
import type { MetadataStore, StoredImage } from '../../src/ports/metadata-store.ts';
import type { LaunchPermission } from '../../src/protocol/ec2/types.generated.ts';

export interface SeedOptions {
  region: string;
  owner: string;
  count: number;
  /** Every nth image is public (0: none). */
  publicEvery?: number;
  /** Every nth image has a deprecation time in the past (0: none). */
  deprecatedEvery?: number;
  /** Every nth image is shared with this account. */
  sharedWith?: { account: string; every: number };
  /** Prefix of the names and ids' first digit, so seeds of several owners do not collide. */
  prefix?: string;
  /** The first image's number: a later seed of the same owner and prefix continues after an earlier one. */
  startAt?: number;
  onProgress?: (done: number) => void;
}

const ARCHITECTURES = ['x86_64', 'arm64', 'i386'] as const;

/** Inserts `count` images owned by `owner`; answers their ids. */
export async function seedImages(store: MetadataStore, o: SeedOptions): Promise<string[]> {
  const ids: string[] = [];
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
  const base = Date.parse('2026-01-01T00:00:00Z');
  const prefix = o.prefix ?? 'a';
  const digit = prefix.charCodeAt(0) % 16;
  for (let i = o.startAt ?? 0; i < (o.startAt ?? 0) + o.count; i++) {
    const imageId = `ami-${digit.toString(16)}${i.toString(16).padStart(16, '0')}`;
    const image: StoredImage = {
      imageId, ownerId: o.owner, name: `${prefix}-image-${String(next() % 1_000_000).padStart(6, '0')}-${i}`, state: 'available',
      creationDate: new Date(base + (next() % 31_536_000) * 1000).toISOString(), architecture: ARCHITECTURES[next() % 3],
      imageType: 'machine', rootDeviceType: 'ebs', virtualizationType: 'hvm', rootDeviceName: '/dev/xvda',
      ...(i % 7 === 0 ? { platform: 'Windows' as const } : {}),
      ...(o.deprecatedEvery && i % o.deprecatedEvery === 0 ? { deprecationTime: '2026-01-02T00:00:00.000Z' } : {}),
    };
    const launchPermissions: LaunchPermission[] = [];
    if (o.publicEvery && i % o.publicEvery === 0) launchPermissions.push({ Group: 'all' });
    if (o.sharedWith && i % o.sharedWith.every === 0) launchPermissions.push({ UserId: o.sharedWith.account });
    await store.images.insert({ region: o.region, image, launchPermissions }, { account: o.owner, tags: [{ Key: 'team', Value: `t${i % 5}` }] });
    ids.push(imageId);
    if (ids.length % 10_000 === 0) o.onProgress?.(ids.length);
  }
  return ids;
}
