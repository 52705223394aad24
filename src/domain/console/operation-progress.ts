// How far a long operation has come, read through the same services (and so the same visibility)
// as the Describe calls: a snapshot's Progress as DescribeSnapshots reports it, a pending image's
// as the mean of its snapshots' (CreateImage and CopyImage both finish when their snapshots do),
// an Image Builder build's from its status and the step its workflow runs.
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import type { BuildService } from '../imagebuilder/builds/build-service.ts';
import { RUNNING_STATES } from '../imagebuilder/builds/build-types.ts';
import type { ImageService } from '../images/image-service.ts';
import type { SnapshotService } from '../snapshots/snapshot-service.ts';

export type OperationKind = 'snapshot' | 'image' | 'image-build';

export interface OperationProgress {
  id: string;
  kind: OperationKind;
  /** The resource's own state, as its Describe/Get call names it (pending, completed, BUILDING, ...). */
  state: string;
  /** 0-100. */
  progress: number;
  message: string;
  /** Nothing more will change. */
  terminal: boolean;
}

export interface ProgressSources {
  snapshots: SnapshotService;
  images: ImageService;
  builds: BuildService;
}

const BUILD_ARN = /^arn:aws[\w-]*:imagebuilder:[\w-]+:\d{12}:image\/[^/]+\/[^/]+\/\d+$/;

/** What an id names; anything else is InvalidParameterValue. */
export function operationKindOf(id: string): OperationKind {
  if (/^snap-[0-9a-f]{8,17}$/.test(id)) return 'snapshot';
  if (/^ami-[0-9a-f]{8,17}$/.test(id)) return 'image';
  if (BUILD_ARN.test(id)) return 'image-build';
  throw Errors.invalidParameterValue(`'${id}' is not a snapshot id, an image id or an Image Builder image build version ARN.`);
}

/** Image Builder's statuses in the order a build goes through them, with the share done at each. */
const BUILD_PROGRESS: Record<string, number> = {
  PENDING: 0, CREATING: 10, BUILDING: 25, TESTING: 60, DISTRIBUTING: 75, INTEGRATING: 95, AVAILABLE: 100,
};

const percent = (progress: string | undefined): number | undefined => {
  const n = Number.parseInt(progress ?? '', 10);
  return Number.isFinite(n) ? Math.max(0, Math.min(100, n)) : undefined;
};

export async function readProgress(sources: ProgressSources, caller: Caller, kind: OperationKind, id: string): Promise<OperationProgress> {
  switch (kind) {
    case 'snapshot': {
      const [s] = (await sources.snapshots.describe(caller, { SnapshotIds: [id] })).Snapshots;
      const state = s.State ?? 'pending';
      return {
        id, kind, state, progress: percent(s.Progress) ?? (state === 'completed' ? 100 : 0),
        message: s.StateMessage ?? state, terminal: state !== 'pending',
      };
    }
    case 'image': {
      const [image] = (await sources.images.describe(caller, { ImageIds: [id] })).Images;
      const state = image.State ?? 'pending';
      const message = image.StateReason?.Message ?? state;
      if (state !== 'pending') return { id, kind, state, progress: state === 'available' ? 100 : 0, message, terminal: true };
      const snapshotIds = (image.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId).filter((s): s is string => !!s);
      // Snapshots the caller cannot describe count as not started, rather than failing the image.
      const snapshots = snapshotIds.length
        ? (await sources.snapshots.describe(caller, { SnapshotIds: snapshotIds }).catch(() => ({ Snapshots: [] }))).Snapshots : [];
      const each = snapshotIds.map((sid) => percent(snapshots.find((s) => s.SnapshotId === sid)?.Progress) ?? 0);
      // Pending until the image itself says available: its snapshots at 100% are not yet the end.
      const mean = each.length ? Math.floor(each.reduce((a, b) => a + b, 0) / each.length) : 0;
      return { id, kind, state, progress: Math.min(99, mean), message, terminal: false };
    }
    case 'image-build': {
      const image = await sources.builds.get(caller, id);
      const status = image.state?.status ?? 'PENDING';
      const running = RUNNING_STATES.includes(status);
      const step = running ? await runningStep(sources.builds, caller, id) : undefined;
      const message = [step ? `${status}: ${step}` : status, image.state?.reason].filter(Boolean).join(': ');
      return { id, kind, state: status, progress: BUILD_PROGRESS[status] ?? 0, message, terminal: !running };
    }
  }
}

/** The name of the step a running build's workflow runs now, if one does. */
async function runningStep(builds: BuildService, caller: Caller, arn: string): Promise<string | undefined> {
  const { workflowExecutions } = await builds.listWorkflowExecutions(caller, arn, {});
  const wf = workflowExecutions?.find((w) => w.status === 'RUNNING');
  if (!wf?.workflowExecutionId) return undefined;
  const { steps } = await builds.listWorkflowStepExecutions(caller, wf.workflowExecutionId, {});
  return steps?.find((s) => s.status === 'RUNNING')?.name;
}
