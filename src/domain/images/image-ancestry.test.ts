// The ancestry walk on stored records: across regions, and where it must stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageRecord, StoredImage } from '../../ports/metadata-store.ts';
import { MAX_ANCESTRY, walkAncestry } from './image-ancestry.ts';

let n = 0;
const id = () => `ami-${(n++).toString(16).padStart(17, '0')}`;

function rec(region: string, over: Partial<StoredImage> = {}): ImageRecord {
  return {
    region, launchPermissions: [],
    image: { imageId: id(), ownerId: '111111111111', name: `img-${n}`, state: 'available', creationDate: '2026-01-02T03:04:05.000Z', ...over },
  };
}
const child = (parent: ImageRecord, region: string, over: Partial<StoredImage> = {}) =>
  rec(region, { sourceImageId: parent.image.imageId, sourceImageRegion: parent.region, ...over });

function reader(...records: ImageRecord[]) {
  const byKey = new Map(records.map((r) => [`${r.region}/${r.image.imageId}`, r]));
  return async (region: string, imageId: string) => byKey.get(`${region}/${imageId}`);
}

test('a chain across regions, from the image to its root, each entry naming its source', async () => {
  const root = rec('us-east-1');
  const copy = child(root, 'eu-west-1');
  const made = child(copy, 'eu-west-1');
  const entries = await walkAncestry(made, reader(root, copy, made));
  assert.deepEqual(entries.map((e) => [e.ImageId, e.SourceImageId, e.SourceImageRegion]), [
    [made.image.imageId, copy.image.imageId, 'eu-west-1'],
    [copy.image.imageId, root.image.imageId, 'us-east-1'],
    [root.image.imageId, undefined, undefined],
  ]);
  assert.deepEqual(entries[2].CreationDate, new Date('2026-01-02T03:04:05.000Z'));
});

test('a source in no region named is looked up in the image\'s own region', async () => {
  const root = rec('us-west-2');
  const made = rec('us-west-2', { sourceImageId: root.image.imageId });
  assert.equal((await walkAncestry(made, reader(root, made))).length, 2);
});

test('the walk stops at a verified provider, keeping that entry\'s source', async () => {
  const older = rec('us-east-1');
  const amazon = child(older, 'us-east-1', { ownerAlias: 'amazon', ownerId: '137112412989' });
  const made = child(amazon, 'us-east-1');
  const entries = await walkAncestry(made, reader(older, amazon, made));
  assert.deepEqual(entries.map((e) => e.ImageId), [made.image.imageId, amazon.image.imageId]);
  assert.equal(entries[1].ImageOwnerAlias, 'amazon');
  assert.equal(entries[1].SourceImageId, older.image.imageId);
});

test('a deregistered or unreadable source ends the chain; the last entry still names it', async () => {
  const gone = rec('us-east-1');
  const made = child(gone, 'us-east-1');
  const entries = await walkAncestry(made, reader(made));
  assert.deepEqual(entries.map((e) => [e.ImageId, e.SourceImageId]), [[made.image.imageId, gone.image.imageId]]);
});

test('a source region amiforge does not serve (another partition) ends the chain', async () => {
  const made = rec('us-east-1', { sourceImageId: id(), sourceImageRegion: 'cn-north-1' });
  assert.equal((await walkAncestry(made, async () => { throw new Error('must not be read'); })).length, 1);
});

test('at most 50 entries; a record pointing into its own chain does not loop', async () => {
  const chain = [rec('us-east-1')];
  for (let i = 0; i < 60; i++) chain.push(child(chain[chain.length - 1], 'us-east-1'));
  const entries = await walkAncestry(chain[chain.length - 1], reader(...chain));
  assert.equal(entries.length, MAX_ANCESTRY);
  const a = rec('us-east-1');
  const b = child(a, 'us-east-1');
  a.image.sourceImageId = b.image.imageId;
  a.image.sourceImageRegion = 'us-east-1';
  assert.equal((await walkAncestry(b, reader(a, b))).length, 2);
});
