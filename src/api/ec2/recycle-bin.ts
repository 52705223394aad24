// The Recycle Bin's EC2 operations: rules by RecycleBin; these only map.
import type { Ec2HandlerTable } from './handler.ts';

export const recycleBinHandlers: Ec2HandlerTable = {
  ListImagesInRecycleBin: (input, ctx, s) => s.recycleBin.listImages(ctx.caller, input),
  ListSnapshotsInRecycleBin: (input, ctx, s) => s.recycleBin.listSnapshots(ctx.caller, input),
  RestoreImageFromRecycleBin: async (input, ctx, s) => {
    await s.recycleBin.restoreImage(ctx.caller, input.ImageId);
    return { Return: true };
  },
  RestoreSnapshotFromRecycleBin: (input, ctx, s) => s.recycleBin.restoreSnapshot(ctx.caller, input.SnapshotId),
};
