// Distribution configuration handlers (DistributionConfigurationService).
import type { IbHandlers } from '../handler-types.ts';

export const distributionHandlers: IbHandlers = {
  CreateDistributionConfiguration: async (input, ctx, ib) => ({
    requestId: ctx.requestId, clientToken: input.clientToken, ...(await ib.distribution.create(ctx.caller, input)),
  }),
  UpdateDistributionConfiguration: async (input, ctx, ib) => ({
    requestId: ctx.requestId, clientToken: input.clientToken, ...(await ib.distribution.update(ctx.caller, input)),
  }),
  GetDistributionConfiguration: async (input, ctx, ib) => ({
    requestId: ctx.requestId, distributionConfiguration: await ib.distribution.get(ctx.caller, input.distributionConfigurationArn),
  }),
  ListDistributionConfigurations: async (input, ctx, ib) => ({ requestId: ctx.requestId, ...(await ib.distribution.list(ctx.caller, input)) }),
  DeleteDistributionConfiguration: async (input, ctx, ib) => {
    await ib.distribution.delete(ctx.caller, input.distributionConfigurationArn);
    return { requestId: ctx.requestId, distributionConfigurationArn: input.distributionConfigurationArn };
  },
};
