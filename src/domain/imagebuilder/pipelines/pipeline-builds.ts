// What a pipeline needs from the build side: start one image build from its recipe and
// configurations. The build service (src/domain/imagebuilder/builds) implements it; the image
// record it creates has `parent` = the pipeline's ARN and doc.sourcePipelineArn, which is how
// ListImagePipelineImages and the start conditions find a pipeline's images.
import type { Caller } from '../../context.ts';
import type { ImageTestsConfiguration } from '../../../protocol/imagebuilder/types.generated.ts';

export interface PipelineBuildRequest {
  imageRecipeArn: string;
  infrastructureConfigurationArn: string;
  distributionConfigurationArn?: string;
  imageTestsConfiguration?: ImageTestsConfiguration;
  imagePipelineArn?: string;
  enhancedImageMetadataEnabled?: boolean;
  tags?: Record<string, string>;
  clientToken?: string;
  /** The image's buildType: SCHEDULED when the pipeline's schedule started it. */
  buildType?: 'USER_INITIATED' | 'SCHEDULED';
}

export interface PipelineBuildStarter {
  startBuild(caller: Caller, req: PipelineBuildRequest): Promise<{ imageBuildVersionArn: string }>;
}
