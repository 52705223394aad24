// One run of a copy schedule: find the source image, copy it to every destination region that
// does not hold a copy of it yet (through the domain's CopyImage, as the schedule's account),
// wait for the copies to become available, then keep only the newest N per region.
import { createHash } from 'node:crypto';
import type { CopyImageRequest, CreateTagsRequest, Image, Tag } from '../../protocol/ec2/types.generated.ts';
import type { Caller, OrgMembership } from '../context.ts';
import { pruneCopies, scheduleCopies, SCHEDULE_TAG, SOURCE_TAG, type ImageCatalog, type PruneResult } from './copy-pruning.ts';
import type { CopyScheduleSpec } from './schedule-spec.ts';

export interface ImageCopier {
  copy(caller: Caller, req: CopyImageRequest): Promise<{ ImageId: string }>;
}

export interface CopyRunDeps {
  images: ImageCatalog;
  copier: ImageCopier;
  tags: { create(caller: Caller, req: CreateTagsRequest): Promise<void> };
  instancesUsing: (region: string, imageId: string) => Promise<number>;
  /** The account's organization (strict mode), so images shared with its organization or OU are found. */
  orgOf?: (account: string) => OrgMembership | undefined;
  now: () => Date;
  /** How often to look at a pending copy's state, ms. */
  pollMs?: number;
}

export type RegionOutcome = 'copied' | 'already-copied' | 'failed' | 'interrupted';

export interface RegionReport extends Partial<PruneResult> {
  region: string;
  outcome: RegionOutcome;
  /** The copy in this region of the run's source image. */
  imageId?: string;
  error?: string;
}

export interface RunReport {
  schedule: string;
  trigger: 'schedule' | 'missed' | 'manual';
  startedAt: string;
  finishedAt?: string;
  /** copied: at least one new copy; up-to-date: every region already held one; failed; interrupted (server stopped). */
  outcome: 'copied' | 'up-to-date' | 'failed' | 'interrupted';
  sourceImageId?: string;
  regions: RegionReport[];
  error?: string;
}

/** The schedule acts as its account, in one region at a time. */
function callerIn(spec: CopyScheduleSpec, deps: CopyRunDeps, region: string): Caller {
  const org = deps.orgOf?.(spec.account);
  return org ? { account: spec.account, region, org } : { account: spec.account, region };
}

/** The newest available image the selector finds, as the schedule's account sees it. */
export async function resolveSource(images: ImageCatalog, caller: Caller, spec: CopyScheduleSpec): Promise<Image> {
  const req = 'imageId' in spec.source
    ? { ImageIds: [spec.source.imageId] }
    : { Owners: [...spec.source.owners], Filters: spec.source.filters.map((f) => ({ Name: f.Name, Values: [...f.Values] })) };
  const where = `source image in ${spec.sourceRegion}`;
  let Images: Image[];
  try {
    ({ Images } = await images.describe(caller, req));
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
  const available = Images.filter((i) => i.State === 'available')
    .sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') || (b.ImageId ?? '').localeCompare(a.ImageId ?? ''));
  if (!available.length) {
    const what = 'imageId' in spec.source ? `${spec.source.imageId} is not available` : `no available image of owners ${spec.source.owners.join(', ')} matches the filters`;
    throw new Error(`${where}: ${what}${Images.length ? ` (found ${Images.map((i) => `${i.ImageId} ${i.State}`).join(', ')})` : ''}`);
  }
  return available[0];
}

export async function runCopySchedule(spec: CopyScheduleSpec, deps: CopyRunDeps, trigger: RunReport['trigger'], signal: AbortSignal): Promise<RunReport> {
  const report: RunReport = { schedule: spec.name, trigger, startedAt: deps.now().toISOString(), outcome: 'failed', regions: [] };
  try {
    const source = await resolveSource(deps.images, callerIn(spec, deps, spec.sourceRegion), spec);
    report.sourceImageId = source.ImageId!;
    // Start every region's copy first, then wait for them together: the copies run side by side.
    const started = await Promise.all(spec.destinationRegions.map((region) => startCopy(spec, deps, source, region)));
    report.regions = await Promise.all(started.map(async (r) => {
      if (r.outcome === 'failed' || !r.imageId) return r;
      const caller = callerIn(spec, deps, r.region);
      const state = await waitForCopy(deps, caller, r.imageId, signal);
      if (state === 'interrupted') return { ...r, outcome: 'interrupted' as const };
      if (state !== 'available') return { ...r, outcome: 'failed' as const, error: `the copy ${r.imageId} ended ${state}` };
      return { ...r, ...await pruneCopies({ images: deps.images, instancesUsing: deps.instancesUsing, caller, schedule: spec.name, keep: spec.keep }) };
    }));
    const outcomes = report.regions.map((r) => r.outcome);
    report.outcome = outcomes.includes('interrupted') ? 'interrupted'
      : outcomes.includes('failed') ? 'failed'
        : outcomes.includes('copied') ? 'copied' : 'up-to-date';
    if (report.outcome === 'failed') report.error = report.regions.filter((r) => r.error).map((r) => `${r.region}: ${r.error}`).join('; ');
  } catch (err) {
    report.outcome = 'failed';
    report.error = (err as Error).message;
  }
  report.finishedAt = deps.now().toISOString();
  return report;
}

/** Copies the source into `region` unless a live copy of it made by this schedule is there. */
async function startCopy(spec: CopyScheduleSpec, deps: CopyRunDeps, source: Image, region: string): Promise<RegionReport> {
  const caller = callerIn(spec, deps, region);
  try {
    const copies = await scheduleCopies(deps.images, caller, spec.name);
    const existing = copies.find((c) => c.State !== 'failed' && c.Tags?.some((t) => t.Key === SOURCE_TAG && t.Value === source.ImageId));
    if (existing) return { region, outcome: 'already-copied', imageId: existing.ImageId };
    const tags: Tag[] = [{ Key: SCHEDULE_TAG, Value: spec.name }, { Key: SOURCE_TAG, Value: source.ImageId! }];
    const { ImageId } = await deps.copier.copy(caller, {
      SourceImageId: source.ImageId!,
      SourceRegion: spec.sourceRegion,
      Name: source.Name ?? source.ImageId!,
      Description: `[Copied ${source.ImageId} from ${spec.sourceRegion}] ${source.Description ?? source.Name ?? ''}`.trim().slice(0, 255),
      Encrypted: spec.encrypted,
      KmsKeyId: spec.kmsKeyId,
      CopyImageTags: spec.copyImageTags,
      TagSpecifications: [{ ResourceType: 'image', Tags: tags }],
      // The same schedule, source, region and copy settings always give the same token, so a run
      // repeated after a crash between CopyImage and its tags gets the first copy back instead
      // of a second one (and a changed setting is a new request, not a mismatch).
      ClientToken: createHash('sha256')
        .update(JSON.stringify([spec.name, source.ImageId, region, spec.encrypted, spec.kmsKeyId, spec.copyImageTags]))
        .digest('hex').slice(0, 64),
    });
    // Ensure the schedule's tags even if the copy did not take them from TagSpecifications.
    await deps.tags.create(caller, { Resources: [ImageId], Tags: tags });
    return { region, outcome: 'copied', imageId: ImageId };
  } catch (err) {
    return { region, outcome: 'failed', error: (err as Error).message };
  }
}

async function waitForCopy(deps: CopyRunDeps, caller: Caller, imageId: string, signal: AbortSignal): Promise<string> {
  for (;;) {
    if (signal.aborted) return 'interrupted';
    let state: string;
    try {
      state = (await deps.images.describe(caller, { ImageIds: [imageId] })).Images[0]?.State ?? 'deregistered';
    } catch {
      state = 'deregistered'; // deregistered by someone while it was being copied
    }
    if (state !== 'pending') return state;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, deps.pollMs ?? 250);
      signal.addEventListener('abort', done);
    });
  }
}
