import type { Ec2HandlerTable } from './handler.ts';

export const volumeHandlers: Ec2HandlerTable = {
  CreateVolume: (input, ctx, s) => s.volumes.create(ctx.caller, input),
  DescribeVolumes: (input, ctx, s) => s.volumes.describe(ctx.caller, input),
  DeleteVolume: async (input, ctx, s) => {
    await s.volumes.delete(ctx.caller, input.VolumeId);
    return {};
  },
  ModifyVolume: async (input, ctx, s) => ({ VolumeModification: await s.volumes.modify(ctx.caller, input) }),
  DescribeVolumesModifications: (input, ctx, s) => s.volumes.describeModifications(ctx.caller, input),
  CreateSnapshot: (input, ctx, s) => s.volumeSnapshots.createSnapshot(ctx.caller, input),
  AttachVolume: (input, ctx, s) => s.attachments.attach(ctx.caller, input),
  DetachVolume: (input, ctx, s) => s.attachments.detach(ctx.caller, input),
};
