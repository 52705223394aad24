// Image operations: parse is done by the codec, rules by ImageService; these only map.
import type { Ec2HandlerTable } from './handler.ts';

export const imageHandlers: Ec2HandlerTable = {
  RegisterImage: async (input, ctx, s) => ({ ImageId: await s.images.register(ctx.caller, input) }),
  CopyImage: (input, ctx, s) => s.imageCopies.copy(ctx.caller, input),
  DescribeImages: (input, ctx, s) => s.images.describe(ctx.caller, input),
  DeregisterImage: async (input, ctx, s) => {
    const results = await s.images.deregister(ctx.caller, input);
    return { Return: true, DeleteSnapshotResults: results };
  },
  DescribeImageAttribute: (input, ctx, s) => s.images.describeAttribute(ctx.caller, input),
  ModifyImageAttribute: async (input, ctx, s) => {
    await s.images.modifyAttribute(ctx.caller, input);
    return {};
  },
  ResetImageAttribute: async (input, ctx, s) => {
    await s.images.resetAttribute(ctx.caller, input);
    return {};
  },
};
