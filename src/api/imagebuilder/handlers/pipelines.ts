// Image pipeline handlers: map the wire request to PipelineService and back.
import type { IbHandlers } from '../handler-types.ts';

export const pipelineHandlers: IbHandlers = {
  CreateImagePipeline: async (input, ctx, ib) => ({
    clientToken: input.clientToken, imagePipelineArn: await ib.pipelines.create(ctx.caller, input),
  }),
  UpdateImagePipeline: async (input, ctx, ib) => ({
    clientToken: input.clientToken, imagePipelineArn: await ib.pipelines.update(ctx.caller, input),
  }),
  GetImagePipeline: async (input, ctx, ib) => ({
    imagePipeline: await ib.pipelines.get(ctx.caller, input.imagePipelineArn),
  }),
  ListImagePipelines: (input, ctx, ib) => ib.pipelines.list(ctx.caller, input),
  DeleteImagePipeline: async (input, ctx, ib) => ({
    imagePipelineArn: await ib.pipelines.delete(ctx.caller, input.imagePipelineArn),
  }),
  StartImagePipelineExecution: async (input, ctx, ib) => ({
    clientToken: input.clientToken, imageBuildVersionArn: await ib.pipelines.startExecution(ctx.caller, input),
  }),
  ListImagePipelineImages: (input, ctx, ib) => ib.pipelines.listImages(ctx.caller, input),
};
