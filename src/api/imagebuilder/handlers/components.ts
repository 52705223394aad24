// Component handlers: map the wire request to ComponentService and back.
import type { IbHandlers } from '../handler-types.ts';

export const componentHandlers: IbHandlers = {
  CreateComponent: async (input, ctx, ib) => ({
    clientToken: input.clientToken, ...(await ib.components.create(ctx.caller, input)),
  }),
  ImportComponent: async (input, ctx, ib) => ({
    clientToken: input.clientToken, ...(await ib.components.import(ctx.caller, input)),
  }),
  GetComponent: async (input, ctx, ib) => ({
    component: await ib.components.get(ctx.caller, input.componentBuildVersionArn),
  }),
  ListComponents: (input, ctx, ib) => ib.components.list(ctx.caller, input),
  ListComponentBuildVersions: (input, ctx, ib) => ib.components.listBuildVersions(ctx.caller, input),
  DeleteComponent: async (input, ctx, ib) => {
    await ib.components.delete(ctx.caller, input.componentBuildVersionArn);
    return { componentBuildVersionArn: input.componentBuildVersionArn };
  },
};
