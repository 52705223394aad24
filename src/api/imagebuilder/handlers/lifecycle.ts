// Lifecycle policies, their executions and manual state updates of images: each handler maps the
// request onto LifecycleService.
import type { IbHandlers } from '../handler-types.ts';

export const lifecycleHandlers: IbHandlers = {
  async CreateLifecyclePolicy(input, ctx, ib) {
    return { clientToken: input.clientToken, lifecyclePolicyArn: await ib.lifecycle.create(ctx.caller, input) };
  },
  async GetLifecyclePolicy(input, ctx, ib) {
    return { lifecyclePolicy: await ib.lifecycle.get(ctx.caller, input.lifecyclePolicyArn) };
  },
  async UpdateLifecyclePolicy(input, ctx, ib) {
    return { lifecyclePolicyArn: await ib.lifecycle.update(ctx.caller, input) };
  },
  async DeleteLifecyclePolicy(input, ctx, ib) {
    return { lifecyclePolicyArn: await ib.lifecycle.delete(ctx.caller, input.lifecyclePolicyArn) };
  },
  async ListLifecyclePolicies(input, ctx, ib) {
    return ib.lifecycle.list(ctx.caller, input);
  },
  async ListLifecycleExecutions(input, ctx, ib) {
    return ib.lifecycle.listExecutions(ctx.caller, input.resourceArn, input.maxResults, input.nextToken);
  },
  async GetLifecycleExecution(input, ctx, ib) {
    return { lifecycleExecution: await ib.lifecycle.getExecution(ctx.caller, input.lifecycleExecutionId) };
  },
  async ListLifecycleExecutionResources(input, ctx, ib) {
    const page = await ib.lifecycle.listResources(ctx.caller, input.lifecycleExecutionId, input.parentResourceId, input.maxResults, input.nextToken);
    return { lifecycleExecutionId: input.lifecycleExecutionId, ...page };
  },
  async StartResourceStateUpdate(input, ctx, ib) {
    return { lifecycleExecutionId: await ib.lifecycle.startResourceStateUpdate(ctx.caller, input), resourceArn: input.resourceArn };
  },
  async CancelLifecycleExecution(input, ctx, ib) {
    return { lifecycleExecutionId: await ib.lifecycle.cancel(ctx.caller, input.lifecycleExecutionId) };
  },
};
