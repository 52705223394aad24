// The Image Builder services the API's handlers reach, built once in src/server/app.ts. Each area
// adds its service here: resources (components, recipes, configurations), builds (images and their
// workflows), pipelines and schedules, lifecycle policies, image scans and packages.
import type { PipelineService } from './pipelines/pipeline-service.ts';

export interface ImageBuilderServices {
  [area: string]: unknown;
  pipelines: PipelineService;
}
