// A run against in-memory fakes of the image catalogue and CopyImage: what it copies, what it
// skips, and what "keep N" deregisters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CopyImageRequest, DescribeImagesRequest, Image, Tag } from '../../protocol/ec2/types.generated.ts';
import type { Caller } from '../context.ts';
import { runCopySchedule, type CopyRunDeps } from './copy-run.ts';
import { SCHEDULE_TAG, SOURCE_TAG } from './copy-pruning.ts';
import { parseCopySchedules } from './schedule-spec.ts';

const ACCOUNT = '111111111111';

function fakeCloud() {
  const images: (Image & { region: string })[] = [];
  let n = 0;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const now = () => new Date((clock += 1000));
  const deregistered: string[] = [];
  const add = (region: string, name: string, over: Partial<Image> = {}) => {
    const img: Image & { region: string } = { region, ImageId: `ami-${String(++n).padStart(17, '0')}`, Name: name, OwnerId: ACCOUNT, State: 'available', CreationDate: now().toISOString(), Tags: [] as Tag[], ...over };
    images.push(img);
    return img;
  };
  const deps: CopyRunDeps = {
    now,
    pollMs: 1,
    images: {
      async describe(caller: Caller, req: DescribeImagesRequest) {
        const Images = images.filter((i) => i.region === caller.region
          && (!req.ImageIds || req.ImageIds.includes(i.ImageId!))
          && (req.Filters ?? []).every((f) => f.Name!.startsWith('tag:')
            ? i.Tags!.some((t) => t.Key === f.Name!.slice(4) && f.Values!.includes(t.Value!))
            : f.Name === 'name' ? f.Values!.some((v) => i.Name!.startsWith(v.replace('*', ''))) : true));
        return { Images: Images.map((i) => structuredClone(i)) };
      },
      async deregister(caller: Caller, req: { ImageId: string }) {
        images.splice(images.findIndex((i) => i.ImageId === req.ImageId), 1);
        deregistered.push(req.ImageId);
        return [];
      },
    },
    copier: {
      async copy(caller: Caller, req: CopyImageRequest) {
        const img = add(caller.region, req.Name, { State: 'pending' });
        setTimeout(() => { img.State = 'available'; }, 5);
        return { ImageId: img.ImageId! };
      },
    },
    tags: {
      async create(caller, req) {
        const img = images.find((i) => i.ImageId === req.Resources[0])!;
        for (const t of req.Tags ?? []) img.Tags = [...img.Tags!.filter((x) => x.Key !== t.Key), t];
      },
    },
    instancesUsing: async () => 0,
  };
  return { images, add, deps, deregistered };
}

const spec = (over: Record<string, unknown> = {}) => parseCopySchedules(JSON.stringify({ schedules: [{
  name: 'dr', account: ACCOUNT, sourceRegion: 'us-east-1', destinationRegions: ['us-west-2', 'eu-west-1'],
  image: { filters: [{ Name: 'name', Values: ['golden-*'] }] }, every: '1h', keep: 2, ...over,
}] }))[0];
const signal = new AbortController().signal;
const copiesIn = (cloud: ReturnType<typeof fakeCloud>, region: string) =>
  cloud.images.filter((i) => i.region === region && i.Tags!.some((t) => t.Key === SCHEDULE_TAG && t.Value === 'dr'));

test('copies the newest matching image to each region, then skips it next time', async () => {
  const cloud = fakeCloud();
  cloud.add('us-east-1', 'golden-1');
  const newest = cloud.add('us-east-1', 'golden-2');
  cloud.add('us-east-1', 'golden-3', { State: 'pending' });
  cloud.add('us-east-1', 'other');
  const first = await runCopySchedule(spec(), cloud.deps, 'manual', signal);
  assert.equal(first.outcome, 'copied', first.error);
  assert.equal(first.sourceImageId, newest.ImageId);
  for (const region of ['us-west-2', 'eu-west-1']) {
    const copies = copiesIn(cloud, region);
    assert.equal(copies.length, 1);
    assert.equal(copies[0].State, 'available');
    assert.equal(copies[0].Tags!.find((t) => t.Key === SOURCE_TAG)?.Value, newest.ImageId);
  }
  const again = await runCopySchedule(spec(), cloud.deps, 'schedule', signal);
  assert.equal(again.outcome, 'up-to-date');
  assert.deepEqual(again.regions.map((r) => r.outcome), ['already-copied', 'already-copied']);
  assert.equal(copiesIn(cloud, 'us-west-2').length, 1, 'no duplicate copy');
});

test('keeps the newest N of its own copies, never other images or images in use', async () => {
  const cloud = fakeCloud();
  const mine = cloud.add('us-west-2', 'hand-made'); // the account's own image, not the schedule's
  const inUse: string[] = [];
  cloud.deps.instancesUsing = async (_region, id) => (inUse.includes(id) ? 1 : 0);
  const made: string[] = [];
  for (let v = 1; v <= 4; v++) {
    cloud.add('us-east-1', `golden-${v}`);
    const r = await runCopySchedule(spec({ destinationRegions: ['us-west-2'] }), cloud.deps, 'schedule', signal);
    assert.equal(r.outcome, 'copied', r.error);
    made.push(r.regions[0].imageId!);
    if (v === 1) inUse.push(made[0]);
  }
  const left = copiesIn(cloud, 'us-west-2').map((i) => i.ImageId).sort();
  // The two newest, plus the first: an instance runs from it.
  assert.deepEqual(left, [made[0], made[2], made[3]].sort());
  assert.deepEqual(cloud.deregistered, [made[1]]);
  assert.ok(cloud.images.includes(mine));
  inUse.length = 0;
  cloud.add('us-east-1', 'golden-5');
  const last = await runCopySchedule(spec({ destinationRegions: ['us-west-2'] }), cloud.deps, 'schedule', signal);
  assert.deepEqual(last.regions[0].deregistered!.sort(), [made[0], made[2]].sort());
  assert.equal(copiesIn(cloud, 'us-west-2').length, 2);
});

test('a run with no source image fails and says why; a failed copy is retried', async () => {
  const cloud = fakeCloud();
  const none = await runCopySchedule(spec(), cloud.deps, 'manual', signal);
  assert.equal(none.outcome, 'failed');
  assert.match(none.error!, /source image in us-east-1: no available image of owners self matches the filters/);
  cloud.add('us-east-1', 'golden-1');
  const copy = cloud.deps.copier.copy;
  cloud.deps.copier = { copy: async () => { throw new Error('InvalidAMIID.NotFound'); } };
  const failed = await runCopySchedule(spec(), cloud.deps, 'manual', signal);
  assert.equal(failed.outcome, 'failed');
  assert.match(failed.error!, /us-west-2: InvalidAMIID\.NotFound/);
  cloud.deps.copier = { copy };
  assert.equal((await runCopySchedule(spec(), cloud.deps, 'manual', signal)).outcome, 'copied');
});
