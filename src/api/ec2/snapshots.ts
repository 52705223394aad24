import type { Ec2HandlerTable } from './handler.ts';

export const snapshotHandlers: Ec2HandlerTable = {
  DescribeSnapshots: (input, ctx, s) => s.snapshots.describe(ctx.caller, input),
  DeleteSnapshot: async (input, ctx, s) => {
    await s.snapshots.delete(ctx.caller, input);
    return {};
  },
  CopySnapshot: (input, ctx, s) => s.snapshots.copy(ctx.caller, input),
  DescribeSnapshotAttribute: (input, ctx, s) => s.snapshots.describeAttribute(ctx.caller, input),
  ModifySnapshotAttribute: async (input, ctx, s) => {
    await s.snapshots.modifyAttribute(ctx.caller, input);
    return {};
  },
  ResetSnapshotAttribute: async (input, ctx, s) => {
    await s.snapshots.resetAttribute(ctx.caller, input);
    return {};
  },
};
