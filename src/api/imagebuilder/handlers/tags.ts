// Tag handlers for any Image Builder ARN (IbTagService).
import type { IbHandlers } from '../handler-types.ts';

export const tagHandlers: IbHandlers = {
  TagResource: async (input, ctx, ib) => {
    await ib.tags.tag(ctx.caller, input.resourceArn, input.tags);
    return {};
  },
  UntagResource: async (input, ctx, ib) => {
    await ib.tags.untag(ctx.caller, input.resourceArn, input.tagKeys);
    return {};
  },
  ListTagsForResource: async (input, ctx, ib) => ({ tags: await ib.tags.list(ctx.caller, input.resourceArn) }),
};
