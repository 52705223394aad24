// Component handlers: map the wire request to ComponentService and back.
import type { IbHandlers } from '../handler-types.ts';

export const componentHandlers: IbHandlers = {
  CreateComponent: async (input, ctx, ib) => ({
    requestId: ctx.requestId, clientToken: input.clientToken, ...(await ib.components.create(ctx.caller, input)),
  }),
  ImportComponent: async (input, ctx, ib) => ({
    requestId: ctx.requestId, clientToken: input.clientToken, ...(await ib.components.import(ctx.caller, input)),
  }),
  GetComponent: async (input, ctx, ib) => ({
    requestId: ctx.requestId, component: await ib.components.get(ctx.caller, input.componentBuildVersionArn),
  }),
  ListComponents: async (input, ctx, ib) => ({ requestId: ctx.requestId, ...(await ib.components.list(ctx.caller, input)) }),
  ListComponentBuildVersions: async (input, ctx, ib) => ({
    requestId: ctx.requestId, ...(await ib.components.listBuildVersions(ctx.caller, input)),
  }),
  DeleteComponent: async (input, ctx, ib) => {
    await ib.components.delete(ctx.caller, input.componentBuildVersionArn);
    return { requestId: ctx.requestId, componentBuildVersionArn: input.componentBuildVersionArn };
  },
};
