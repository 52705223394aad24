import type { Ec2HandlerTable } from './handler.ts';

export const tagHandlers: Ec2HandlerTable = {
  CreateTags: async (input, ctx, s) => {
    await s.tags.create(ctx.caller, input);
    return {};
  },
  DeleteTags: async (input, ctx, s) => {
    await s.tags.delete(ctx.caller, input);
    return {};
  },
  DescribeTags: (input, ctx, s) => s.tags.describe(ctx.caller, input),
};
