// Image pipeline handlers: map the wire request to PipelineService and back.
import type { IbHandlers } from '../handler-types.ts';

export const pipelineHandlers: IbHandlers = {
  CreateImagePipeline: async (input, ctx, ib) => ({
    requestId: ctx.requestId, clientToken: input.clientToken, imagePipelineArn: await ib.pipelines.create(ctx.caller, input),
  }),
  UpdateImagePipeline: async (input, ctx, ib) => ({
    requestId: ctx.requestId, clientToken: input.clientToken, imagePipelineArn: await ib.pipelines.update(ctx.caller, input),
  }),
  GetImagePipeline: async (input, ctx, ib) => ({
    requestId: ctx.requestId, imagePipeline: await ib.pipelines.get(ctx.caller, input.imagePipelineArn),
  }),
  ListImagePipelines: async (input, ctx, ib) => ({ requestId: ctx.requestId, ...(await ib.pipelines.list(ctx.caller, input)) }),
  DeleteImagePipeline: async (input, ctx, ib) => ({
    requestId: ctx.requestId, imagePipelineArn: await ib.pipelines.delete(ctx.caller, input.imagePipelineArn),
  }),
  StartImagePipelineExecution: async (input, ctx, ib) => ({
    requestId: ctx.requestId, clientToken: input.clientToken, imageBuildVersionArn: await ib.pipelines.startExecution(ctx.caller, input),
  }),
  ListImagePipelineImages: async (input, ctx, ib) => ({ requestId: ctx.requestId, ...(await ib.pipelines.listImages(ctx.caller, input)) }),
};
