// The lifecycle rules on their own: age and count filters, retainAtLeast, per-recipe-version
// retention, rule priority, failed images, image-level and AMI-level exclusions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LifecyclePolicyDetail } from '../../../protocol/imagebuilder/types.generated.ts';
import { amiExclusion, evaluate, timeAgo, type AmiFacts, type Subject } from './rules.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000).toISOString();

function ami(id: string, over: Partial<AmiFacts> = {}): AmiFacts {
  return {
    imageId: id, region: 'us-east-1', accountId: '111111111111', state: 'available', deprecated: false, public: false,
    sharedAccounts: [], tags: {}, liveInstances: [], snapshotIds: [`snap-${id}`], ...over,
  };
}

function image(n: number, ageDays: number, over: Partial<Subject> = {}): Subject {
  return { id: `img-${n}`, kind: 'image', group: 'recipe r 1.0.0', createdAt: daysAgo(ageDays), status: 'AVAILABLE', tags: {}, amis: [ami(`ami-${n}`)], ...over };
}

const rule = (type: 'DEPRECATE' | 'DISABLE' | 'DELETE', filter: LifecyclePolicyDetail['filter'], exclusionRules?: LifecyclePolicyDetail['exclusionRules']): LifecyclePolicyDetail =>
  ({ action: { type, includeResources: { amis: true, snapshots: type === 'DELETE' } }, filter, ...(exclusionRules ? { exclusionRules } : {}) });

const chosen = (details: LifecyclePolicyDetail[], subjects: Subject[]) =>
  evaluate(details, subjects, NOW).map((d) => `${d.subject.id}:${d.action}${d.skipped ? ':SKIPPED' : ''}`);

test('COUNT keeps the newest N images of each recipe version and selects the rest', () => {
  const subjects = [image(1, 1), image(2, 2), image(3, 3), image(4, 4), image(5, 5, { group: 'recipe r 2.0.0' })];
  assert.deepEqual(chosen([rule('DELETE', { type: 'COUNT', value: 2 })], subjects), ['img-3:DELETE', 'img-4:DELETE']);
});

test('AGE selects images older than the threshold; retainAtLeast keeps the newest regardless of age', () => {
  const subjects = [image(1, 10), image(2, 20), image(3, 30), image(4, 3)];
  assert.deepEqual(chosen([rule('DELETE', { type: 'AGE', value: 7, unit: 'DAYS' })], subjects), ['img-1:DELETE', 'img-2:DELETE', 'img-3:DELETE']);
  // The newest two (img-4 and img-1) are kept: only img-2 and img-3 go.
  assert.deepEqual(chosen([rule('DELETE', { type: 'AGE', value: 7, unit: 'DAYS', retainAtLeast: 2 })], subjects), ['img-2:DELETE', 'img-3:DELETE']);
  assert.deepEqual(chosen([rule('DELETE', { type: 'AGE', value: 2, unit: 'WEEKS' })], subjects), ['img-2:DELETE', 'img-3:DELETE']);
});

test('time units count calendar months and years', () => {
  assert.equal(timeAgo(NOW, 1, 'MONTHS').toISOString(), '2026-05-15T12:00:00.000Z');
  assert.equal(timeAgo(NOW, 2, 'YEARS').toISOString(), '2024-06-15T12:00:00.000Z');
  assert.equal(timeAgo(NOW, 3, 'WEEKS').toISOString(), '2026-05-25T12:00:00.000Z');
});

test('failed and cancelled images always qualify for deletion and hold no retention slot', () => {
  const subjects = [image(1, 1, { status: 'FAILED' }), image(2, 2), image(3, 3), image(4, 4, { status: 'CANCELLED' })];
  assert.deepEqual(chosen([rule('DELETE', { type: 'COUNT', value: 2 })], subjects), ['img-1:DELETE', 'img-4:DELETE']);
  // A deprecate rule leaves them alone.
  assert.deepEqual(chosen([rule('DEPRECATE', { type: 'AGE', value: 1, unit: 'DAYS' })], subjects), ['img-2:DEPRECATE', 'img-3:DEPRECATE']);
});

test('one action per image per execution, in the order deprecate, disable, delete', () => {
  const details = [
    rule('DELETE', { type: 'AGE', value: 30, unit: 'DAYS' }),
    rule('DEPRECATE', { type: 'AGE', value: 10, unit: 'DAYS' }),
    rule('DISABLE', { type: 'AGE', value: 20, unit: 'DAYS' }),
  ];
  const subjects = [image(1, 5), image(2, 15), image(3, 40), image(4, 41, { status: 'DEPRECATED' }), image(5, 42, { status: 'DISABLED' }), image(6, 25, { status: 'DISABLED' })];
  // A 40-day-old image still available is deprecated first; later executions disable, then delete it.
  assert.deepEqual(chosen(details, subjects), ['img-2:DEPRECATE', 'img-3:DEPRECATE', 'img-4:DISABLE', 'img-5:DELETE']);
});

test('images with a build in progress wait for the next execution', () => {
  const subjects = [image(1, 40, { status: 'BUILDING' }), image(2, 40, { status: 'DISTRIBUTING' }), image(3, 40)];
  assert.deepEqual(chosen([rule('DELETE', { type: 'AGE', value: 1, unit: 'DAYS' })], subjects), ['img-3:DELETE']);
});

test('an image-level exclusion tag skips the image and holds no retention slot', () => {
  const keep = { tagMap: { Retain: 'true' } };
  const subjects = [image(1, 1, { tags: { Retain: 'true' } }), image(2, 2), image(3, 3), image(4, 4, { tags: { Retain: 'true' } })];
  // Slots go to img-2 and img-3; img-4 would be deleted but its tag keeps it (SKIPPED); img-1 is kept anyway.
  const decisions = evaluate([rule('DELETE', { type: 'COUNT', value: 2 }, keep)], subjects, NOW);
  assert.deepEqual(decisions.map((d) => `${d.subject.id}:${d.skipped ?? 'acted'}`), ['img-4:Excluded: the image has the excluded tag Retain=true.']);
  assert.deepEqual(decisions[0].amis, [], 'a skipped image takes its AMIs with it');
});

test('AMI-level exclusions in the documented order: regions, public, tags, shared accounts, last launched', () => {
  const rules = {
    regions: ['eu-west-1'], isPublic: true, tagMap: { Keep: 'yes' }, sharedAccounts: ['222222222222'],
    lastLaunched: { value: 7, unit: 'DAYS' as const },
  };
  assert.match(amiExclusion(rules, ami('a', { region: 'eu-west-1', public: true }), NOW)!, /Region eu-west-1/);
  assert.match(amiExclusion(rules, ami('a', { public: true, tags: { Keep: 'yes' } }), NOW)!, /is public/);
  assert.match(amiExclusion(rules, ami('a', { tags: { Keep: 'yes' } }), NOW)!, /tag Keep=yes/);
  assert.match(amiExclusion(rules, ami('a', { sharedAccounts: ['333333333333', '222222222222'] }), NOW)!, /account 222222222222/);
  assert.match(amiExclusion(rules, ami('a', { lastLaunched: daysAgo(3) }), NOW)!, /last launched/);
  assert.equal(amiExclusion(rules, ami('a', { lastLaunched: daysAgo(30) }), NOW), undefined);
  assert.equal(amiExclusion(rules, ami('a'), NOW), undefined, 'no recorded launch: not excluded');
  assert.equal(amiExclusion(rules, ami('a', { tags: { Keep: 'no' } }), NOW), undefined, 'tags match by key and value');
});

test('an instance still running from an AMI counts as a launch now under a lastLaunched exclusion', () => {
  const rules = { lastLaunched: { value: 1, unit: 'DAYS' as const } };
  assert.match(amiExclusion(rules, ami('a', { lastLaunched: daysAgo(300), liveInstances: ['i-0abc'] }), NOW)!, /instance i-0abc still runs/);
  // Without the exclusion the AMI is acted on (EC2 lets an AMI in use be deregistered).
  const d = evaluate([rule('DELETE', { type: 'COUNT', value: 1 })], [image(1, 1), image(2, 2, { amis: [ami('ami-2', { liveInstances: ['i-0abc'] })] })], NOW);
  assert.deepEqual(d.map((x) => [x.subject.id, x.amis.map((a) => a.skipped)]), [['img-2', [undefined]]]);
});

test('AMI exclusions apply per AMI of an image; retention is counted on images', () => {
  const subjects = [
    image(1, 1),
    image(2, 2, { amis: [ami('ami-2a'), ami('ami-2b', { region: 'eu-west-1' })] }),
  ];
  const d = evaluate([rule('DELETE', { type: 'COUNT', value: 1 }, { amis: { regions: ['eu-west-1'] } })], subjects, NOW);
  assert.equal(d.length, 1);
  assert.deepEqual(d[0].amis.map((a) => [a.ami.imageId, !!a.skipped]), [['ami-2a', false], ['ami-2b', true]]);
});
