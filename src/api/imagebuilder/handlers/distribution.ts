// Distribution configuration handlers (DistributionConfigurationService).
import type { IbHandlers } from '../handler-types.ts';

export const distributionHandlers: IbHandlers = {
  CreateDistributionConfiguration: async (input, ctx, ib) => ({
    clientToken: input.clientToken, ...(await ib.distribution.create(ctx.caller, input)),
  }),
  UpdateDistributionConfiguration: async (input, ctx, ib) => ({
    clientToken: input.clientToken, ...(await ib.distribution.update(ctx.caller, input)),
  }),
  GetDistributionConfiguration: async (input, ctx, ib) => ({
    distributionConfiguration: await ib.distribution.get(ctx.caller, input.distributionConfigurationArn),
  }),
  ListDistributionConfigurations: (input, ctx, ib) => ib.distribution.list(ctx.caller, input),
  DeleteDistributionConfiguration: async (input, ctx, ib) => {
    await ib.distribution.delete(ctx.caller, input.distributionConfigurationArn);
    return { distributionConfigurationArn: input.distributionConfigurationArn };
  },
};
