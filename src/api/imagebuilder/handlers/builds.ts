// Image Builder's images and their workflows: parsing is the codec's, rules are
// src/domain/imagebuilder/builds'; these only map.
import { Errors } from '../../../domain/errors.ts';
import type { IbHandlers } from '../handler-types.ts';

export const buildHandlers: IbHandlers = {
  CreateImage: async (input, ctx, ib) => {
    if (input.containerRecipeArn !== undefined) {
      throw Errors.ibInvalidRequest('amiforge builds AMIs only: container recipes (containerRecipeArn) are not supported.');
    }
    if (!input.imageRecipeArn) throw Errors.ibInvalidRequest('An image recipe (imageRecipeArn) is required.');
    if (input.workflows?.length) {
      throw Errors.ibInvalidRequest('amiforge runs Image Builder\'s default build, test and distribution workflows: custom workflows (workflows) are not supported.');
    }
    const { imageBuildVersionArn } = await ib.builds.startBuild(ctx.caller, {
      imageRecipeArn: input.imageRecipeArn, infrastructureConfigurationArn: input.infrastructureConfigurationArn,
      distributionConfigurationArn: input.distributionConfigurationArn, imageTestsConfiguration: input.imageTestsConfiguration,
      enhancedImageMetadataEnabled: input.enhancedImageMetadataEnabled, tags: input.tags,
    });
    return { clientToken: input.clientToken, imageBuildVersionArn };
  },
  GetImage: async (input, ctx, ib) => ({ image: await ib.builds.get(ctx.caller, input.imageBuildVersionArn) }),
  ListImages: (input, ctx, ib) => ib.builds.listImages(ctx.caller, input),
  ListImageBuildVersions: (input, ctx, ib) => ib.builds.listBuildVersions(ctx.caller, input),
  DeleteImage: async (input, ctx, ib) => {
    await ib.builds.delete(ctx.caller, input.imageBuildVersionArn);
    return { imageBuildVersionArn: input.imageBuildVersionArn };
  },
  CancelImageCreation: async (input, ctx, ib) => {
    await ib.builds.cancel(ctx.caller, input.imageBuildVersionArn);
    return { clientToken: input.clientToken, imageBuildVersionArn: input.imageBuildVersionArn };
  },
  ListWorkflowExecutions: (input, ctx, ib) => ib.builds.listWorkflowExecutions(ctx.caller, input.imageBuildVersionArn, input),
  GetWorkflowExecution: (input, ctx, ib) => ib.builds.getWorkflowExecution(ctx.caller, input.workflowExecutionId),
  ListWorkflowStepExecutions: (input, ctx, ib) => ib.builds.listWorkflowStepExecutions(ctx.caller, input.workflowExecutionId, input),
  GetWorkflowStepExecution: (input, ctx, ib) => ib.builds.getWorkflowStepExecution(ctx.caller, input.stepExecutionId),
};
