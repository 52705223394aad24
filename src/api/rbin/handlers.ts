// Recycle Bin API handlers: the codec binds input from path, query and body; rules live in
// RetentionRuleService. Each handler only maps.
import type { RequestContext } from '../../domain/context.ts';
import type { RetentionRuleService } from '../../domain/recycle-bin/retention-rules.ts';
import type { RbinOperations } from '../../protocol/rbin/types.generated.ts';

type Handler<Op extends keyof RbinOperations> = (
  input: RbinOperations[Op]['input'], ctx: RequestContext, rules: RetentionRuleService,
) => Promise<RbinOperations[Op]['output']>;

export const rbinHandlers: { [Op in keyof RbinOperations]: Handler<Op> } = {
  CreateRule: (input, ctx, rules) => rules.create(ctx.caller, input),
  GetRule: (input, ctx, rules) => rules.get(ctx.caller, input.Identifier),
  ListRules: (input, ctx, rules) => rules.list(ctx.caller, input),
  UpdateRule: (input, ctx, rules) => rules.update(ctx.caller, input),
  DeleteRule: async (input, ctx, rules) => {
    await rules.delete(ctx.caller, input.Identifier);
    return {};
  },
  LockRule: (input, ctx, rules) => rules.lock(ctx.caller, input.Identifier, input.LockConfiguration),
  UnlockRule: (input, ctx, rules) => rules.unlock(ctx.caller, input.Identifier),
  TagResource: async (input, ctx, rules) => {
    await rules.tag(ctx.caller, input.ResourceArn, input.Tags);
    return {};
  },
  UntagResource: async (input, ctx, rules) => {
    await rules.untag(ctx.caller, input.ResourceArn, input.TagKeys);
    return {};
  },
  ListTagsForResource: async (input, ctx, rules) => ({ Tags: await rules.listTags(ctx.caller, input.ResourceArn) }),
};
