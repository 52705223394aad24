// The Image Builder services the API's handlers reach, built once in src/server/app.ts. Each area
// adds its service here: resources (components, recipes, configurations), builds (images and their
// workflows), pipelines and schedules, lifecycle policies, image scans and packages.
import type { BuildService } from './builds/build-service.ts';
import type { HygieneScanner } from './hygiene/hygiene-scanner.ts';
import type { LifecycleService } from './lifecycle/lifecycle-service.ts';
import type { PipelineService } from './pipelines/pipeline-service.ts';
import type { ClientTokenService } from './resources/client-tokens.ts';
import type { ComponentService } from './resources/component-service.ts';
import type { DistributionConfigurationService } from './resources/distribution-service.ts';
import type { ImageRecipeService } from './resources/image-recipe-service.ts';
import type { InfrastructureConfigurationService } from './resources/infrastructure-service.ts';
import type { IbTagService } from './resources/tag-service.ts';

export interface ImageBuilderServices {
  [area: string]: unknown;
  /** ClientToken idempotency of every operation with a clientToken (the dispatcher applies it). */
  clientTokens: ClientTokenService;
  components: ComponentService;
  imageRecipes: ImageRecipeService;
  infrastructure: InfrastructureConfigurationService;
  distribution: DistributionConfigurationService;
  tags: IbTagService;
  /** Offline hygiene scans and installed packages of images (ListImagePackages, ListImageScanFindings). */
  hygiene: HygieneScanner;
  /** Lifecycle policies, their executions and manual state updates of images. */
  lifecycle: LifecycleService;
  /** Images (Image Builder's CreateImage, ...), their builds and workflow executions. */
  builds: BuildService;
  /** Image pipelines, their schedules and start conditions. */
  pipelines: PipelineService;
}
