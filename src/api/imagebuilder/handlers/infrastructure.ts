// Infrastructure configuration handlers (InfrastructureConfigurationService).
import type { IbHandlers } from '../handler-types.ts';

export const infrastructureHandlers: IbHandlers = {
  CreateInfrastructureConfiguration: async (input, ctx, ib) => ({
    clientToken: input.clientToken, ...(await ib.infrastructure.create(ctx.caller, input)),
  }),
  UpdateInfrastructureConfiguration: async (input, ctx, ib) => ({
    clientToken: input.clientToken, ...(await ib.infrastructure.update(ctx.caller, input)),
  }),
  GetInfrastructureConfiguration: async (input, ctx, ib) => ({
    infrastructureConfiguration: await ib.infrastructure.get(ctx.caller, input.infrastructureConfigurationArn),
  }),
  ListInfrastructureConfigurations: (input, ctx, ib) => ib.infrastructure.list(ctx.caller, input),
  DeleteInfrastructureConfiguration: async (input, ctx, ib) => {
    await ib.infrastructure.delete(ctx.caller, input.infrastructureConfigurationArn);
    return { infrastructureConfigurationArn: input.infrastructureConfigurationArn };
  },
};
