import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageRecord } from '../../ports/metadata-store.ts';
import { toWire } from './image-service.ts';
import { WireImageCache } from './wire-image-cache.ts';

function record(name: string, revision?: string, region = 'us-east-1'): ImageRecord {
  const r: ImageRecord = { region, image: { imageId: 'ami-0123456789abcdef0', ownerId: '111111111111', name, state: 'available', creationDate: '2026-01-01T00:00:00.000Z' }, launchPermissions: [] };
  return revision === undefined ? r : Object.defineProperty(r, 'revision', { value: revision });
}

const wire = (cache: WireImageCache, r: ImageRecord, tags?: { Key: string; Value: string }[], allowed?: boolean, protection?: string) =>
  cache.wire(r, tags, allowed, protection, () => toWire(r, tags, allowed));

test('the same revision and reader get the same frozen object', () => {
  const cache = new WireImageCache();
  const first = wire(cache, record('a', 'rev-1'));
  assert.ok(Object.isFrozen(first));
  assert.equal(wire(cache, record('a', 'rev-1')), first);
  assert.equal(first.Name, 'a');
});

test('a new revision, other tags, ImageAllowed, protection or region make a new object', () => {
  const cache = new WireImageCache();
  const first = wire(cache, record('a', 'rev-1'));
  const renamed = wire(cache, record('b', 'rev-2'));
  assert.notEqual(renamed, first);
  assert.equal(renamed.Name, 'b');
  const tagged = wire(cache, record('b', 'rev-2'), [{ Key: 'k', Value: 'v' }]);
  assert.deepEqual(tagged.Tags, [{ Key: 'k', Value: 'v' }]);
  assert.notEqual(wire(cache, record('b', 'rev-2'), [{ Key: 'k', Value: 'w' }]), tagged);
  const allowed = wire(cache, record('b', 'rev-2'), undefined, true);
  assert.equal(allowed.ImageAllowed, true);
  assert.notEqual(wire(cache, record('b', 'rev-2'), undefined, true, 'disabled'), allowed);
  assert.equal(wire(cache, record('c', 'rev-2', 'eu-west-1')).Name, 'c');
});

test('a record without a revision is never cached; a full cache forgets its oldest entry', () => {
  const cache = new WireImageCache(1);
  assert.notEqual(wire(cache, record('a')), wire(cache, record('a')));
  const first = wire(cache, record('a', 'rev-1'));
  const other = record('b', 'rev-1');
  other.image.imageId = 'ami-0fedcba9876543210';
  wire(cache, other);
  assert.notEqual(wire(cache, record('a', 'rev-1')), first);
});
