// What a pipeline needs from the build side: start one image build from its recipe and
// configurations. The build service (src/domain/imagebuilder/builds) implements it; the image
// record it creates has `parent` = the pipeline's ARN and doc.sourcePipelineArn, which is how
// ListImagePipelineImages and the start conditions find a pipeline's images.
import type { Caller } from '../../context.ts';
import type { StartBuildRequest } from '../builds/build-types.ts';

export interface PipelineBuildStarter {
  startBuild(caller: Caller, req: StartBuildRequest): Promise<{ imageBuildVersionArn: string }>;
}
