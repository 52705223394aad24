// A catalogue file is checked whole before anything is stored: each problem names the file, the
// entry (index, name, an id) and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogFileError, validateCatalog } from './catalog-validation.ts';

const image = (over: Record<string, unknown> = {}) => ({
  regions: { 'us-east-1': 'ami-0000000000000000a', 'eu-west-1': 'ami-0000000000000000b' }, ownerId: '000000000000', name: 'first-image',
  architecture: 'x86_64', rootDeviceName: '/dev/xvda', creationDate: '2024-12-12T00:00:00.000Z', ...over,
});
const second = (over: Record<string, unknown> = {}) =>
  image({ regions: { 'us-east-1': 'ami-0000000000000000c' }, name: 'second-image', ...over });

const refused = (images: unknown[], message: RegExp) =>
  assert.throws(() => validateCatalog('my-catalog.json', { images }), (err: Error) => {
    assert.ok(err instanceof CatalogFileError, `a CatalogFileError, not ${err.name}`);
    assert.match(err.message, message);
    return true;
  });

test('a valid file gives its images; the same owner and name in different regions is allowed', () => {
  assert.equal(validateCatalog('f.json', { images: [image(), second({ name: 'first-image', regions: { 'us-west-2': 'ami-0000000000000000d' } })] }).length, 2);
  assert.deepEqual(validateCatalog('f.json', {}), []);
});

test('the same image id twice names the file, the later entry, the field and the earlier entry', () => {
  refused([image(), second({ regions: { 'us-east-1': 'ami-0000000000000000b' } })],
    /^my-catalog\.json: entry 1 \(name "second-image", ami-0000000000000000b in us-east-1\), field regions\.us-east-1: image id ami-0000000000000000b is already used by entry 0 \("first-image"\)$/);
  refused([image({ regions: { 'us-east-1': 'ami-0000000000000000a', 'eu-west-1': 'ami-0000000000000000a' } })],
    /entry 0 .*field regions\.eu-west-1: image id ami-0000000000000000a is given for two regions/);
});

test('the same owner and name twice in one region names both entries', () => {
  refused([image(), second({ name: 'first-image' })],
    /^my-catalog\.json: entry 1 \(name "first-image", ami-0000000000000000c in us-east-1\), field name: entry 0 already has owner 000000000000 and name "first-image" in us-east-1/);
});

test('a missing or invalid field is named with its entry', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ownerId: undefined }, /field ownerId: owner must be a 12-digit account, got undefined/],
    [{ ownerId: '12345' }, /field ownerId: .*got "12345"/],
    [{ name: undefined }, /^my-catalog\.json: entry 1 \(ami-0000000000000000c in us-east-1\), field name: expecting 3 to 128 characters/],
    [{ architecture: 'sparc' }, /field architecture: must be one of i386, x86_64, arm64/],
    [{ creationDate: 'yesterday' }, /field creationDate: expecting an ISO 8601 time/],
    [{ regions: {} }, /field regions: expecting an object of region name to image id/],
    [{ regions: { 'mars-1': 'ami-0000000000000000c' } }, /field regions\.mars-1: unknown region mars-1/],
    [{ regions: { 'us-east-1': 'snap-0000000000000000c' } }, /field regions\.us-east-1: malformed id "snap-0000000000000000c" \(expecting ami-/],
    [{ rootDeviceName: undefined }, /field rootDeviceName: a machine image needs rootDeviceName/],
    [{ virtualizationType: 'pv' }, /field virtualizationType: must be one of hvm, paravirtual/],
    [{ bootMode: 'bios' }, /field bootMode: must be one of legacy-bios, uefi, uefi-preferred/],
    [{ enaSupport: 'yes' }, /field enaSupport: expecting true or false/],
    [{ description: 7 }, /field description: expecting a non-empty string, got 7/],
    [{ blockDeviceMappings: [{ Ebs: {} }] }, /field blockDeviceMappings\[0\]\.DeviceName: each mapping needs a DeviceName/],
    [{ imageType: 'disk' }, /field imageType: must be machine, kernel or ramdisk/],
  ];
  for (const [over, message] of cases) refused([image(), second(over)], message);
  refused([image(), 'not an image'], /entry 1, field \(the entry\): expecting an object/);
  assert.throws(() => validateCatalog('my-catalog.json', { images: {} }), /^Error: my-catalog\.json: field images: expecting an array/);
  assert.throws(() => validateCatalog('my-catalog.json', []), /my-catalog\.json: expecting an object with an "images" array/);
});
