// Carrying out one planned resource: an AMI through EC2 (deprecate, disable, deregister with or
// without its snapshots) or an Image Builder image record (its status, or its removal). A
// resource already gone or already in the wanted state is a SUCCESS, as Image Builder reports
// resources changed outside the policy; an action is therefore safe to repeat after a restart.
import type { ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type { Image, LifecycleExecutionResourceState, LifecycleExecutionSnapshotResource } from '../../../protocol/imagebuilder/types.generated.ts';
import type { LifecycleEc2 } from './lifecycle-ec2.ts';
import type { ResourceDoc } from './execution-records.ts';

export interface Outcome {
  state: LifecycleExecutionResourceState;
  snapshots?: LifecycleExecutionSnapshotResource[];
}

const ok = (reason?: string): Outcome => ({ state: { status: 'SUCCESS', ...(reason ? { reason } : {}) } });
const message = (err: unknown) => (err as Error).message ?? String(err);

/** DeregisterImage's per-snapshot return codes as lifecycle states. */
function snapshotState(code: string): LifecycleExecutionResourceState {
  if (code === 'success') return { status: 'SUCCESS' };
  if (code === 'skipped') return { status: 'SKIPPED', reason: 'Another image still uses the snapshot; EC2 keeps it.' };
  return { status: 'FAILED', reason: `DeregisterImage could not delete it (${code}).` };
}

export async function applyToAmi(ec2: LifecycleEc2, account: string, doc: ResourceDoc): Promise<Outcome> {
  const imageId = doc.resourceId!;
  const caller = { account, region: doc.region! };
  const ami = await ec2.facts(caller.region, imageId);
  if (!ami) return { ...ok('The AMI no longer exists.'), snapshots: doc.snapshots?.map((s) => ({ ...s, state: { status: 'SUCCESS', reason: 'Gone with its AMI before this action.' } })) };
  try {
    if (doc.plannedAction === 'DEPRECATE') {
      if (ami.deprecated) return ok('The AMI was already deprecated.');
      await ec2.deprecate(caller, imageId);
      return ok();
    }
    if (doc.plannedAction === 'AVAILABLE') {
      if (ami.state === 'available' && !ami.deprecated && !ami.tags.DeprecatedBy) return ok('The AMI was already available.');
      await ec2.restore(caller, imageId);
      return ok();
    }
    if (doc.plannedAction === 'DISABLE') {
      if (ami.state === 'disabled') return ok('The AMI was already disabled.');
      await ec2.disable(caller, imageId);
      return ok();
    }
    const codes = await ec2.deregister(caller, imageId, !!doc.withSnapshots);
    const byId = new Map(codes.map((c) => [c.snapshotId, c.returnCode]));
    const snapshots = doc.withSnapshots
      ? ami.snapshotIds.map((snapshotId) => ({ snapshotId, state: snapshotState(byId.get(snapshotId) ?? 'success') }))
      : undefined;
    const failed = snapshots?.filter((s) => s.state.status === 'FAILED').length;
    return failed
      ? { state: { status: 'FAILED', reason: `The AMI was deregistered; ${failed} of its snapshots could not be deleted.` }, snapshots }
      : { ...ok(), snapshots };
  } catch (err) {
    return { state: { status: 'FAILED', reason: message(err) } };
  }
}

/**
 * The Image Builder image itself, once its AMIs are done (`children`): a DELETE removes the image
 * only when none of its AMIs stayed, so an AMI kept by an exclusion or a failure stays tracked by
 * its image for the next execution.
 */
export async function applyToImage(repo: ImageBuilderRepository, doc: ResourceDoc, children: ResourceDoc[], executionId: string, now: Date): Promise<Outcome> {
  const arn = doc.resourceId!;
  const record = await repo.get(arn);
  if (!record) return ok('The image no longer exists.');
  if (doc.plannedAction === 'DELETE') {
    const failed = children.filter((c) => c.state?.status === 'FAILED').length;
    const kept = children.filter((c) => c.state?.status === 'SKIPPED').length;
    if (failed) return { state: { status: 'FAILED', reason: `The image was kept: ${failed} of its AMIs could not be deleted.` } };
    if (kept) return { state: { status: 'SKIPPED', reason: `The image was kept: exclusion rules kept ${kept} of its AMIs.` } };
    // As DeleteImage does: the build version goes with its workflow and step execution records.
    for (const wf of await repo.list({ kind: 'workflow-execution', parent: arn })) {
      for (const step of await repo.list({ kind: 'workflow-step-execution', parent: wf.arn })) await repo.delete(step.arn);
      await repo.delete(wf.arn);
    }
    await repo.delete(arn);
    return ok();
  }
  const status = doc.plannedAction === 'DEPRECATE' ? 'DEPRECATED' : doc.plannedAction === 'DISABLE' ? 'DISABLED' : 'AVAILABLE';
  await repo.update(arn, (r) => {
    const image = { ...(r.doc as Image) };
    if (status === 'AVAILABLE') delete image.deprecationTime;
    const amis = image.outputResources?.amis?.map((a) => {
      const done = children.find((c) => c.resourceId === a.image && c.state?.status === 'SUCCESS');
      return done ? { ...a, state: { status } } : a;
    });
    return {
      ...r, state: status, updatedAt: now.toISOString(),
      doc: {
        ...image, state: { status }, lifecycleExecutionId: executionId,
        ...(status === 'DEPRECATED' ? { deprecationTime: now } : {}),
        ...(amis ? { outputResources: { ...image.outputResources, amis } } : {}),
      } as Record<string, unknown>,
    };
  });
  return ok();
}
