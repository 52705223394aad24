// Wiring of image pipelines: the service over the record store and the service's clock, and the
// scheduler that runs their schedules (started with the app, closed with it).
import type { PipelineBuildStarter } from '../domain/imagebuilder/pipelines/pipeline-builds.ts';
import { PipelineScheduler } from '../domain/imagebuilder/pipelines/pipeline-scheduler.ts';
import { PipelineService } from '../domain/imagebuilder/pipelines/pipeline-service.ts';
import type { Clock } from '../ports/clock.ts';
import type { ImageBuilderRepository } from '../ports/imagebuilder-repository.ts';
import type { Component } from '../protocol/imagebuilder/types.generated.ts';
import type { Logger } from './logger.ts';

export function createPipelines(o: {
  store: ImageBuilderRepository;
  clock: Clock;
  builds: PipelineBuildStarter;
  log: Logger;
  amazonComponents?: (region: string) => Component[];
  /** True on the node that runs the schedules (src/domain/cluster/singleton.ts). */
  leading?: () => Promise<boolean>;
}): { service: PipelineService; scheduler: PipelineScheduler } {
  const service = new PipelineService({ store: o.store, builds: o.builds, clock: o.clock, amazonComponents: o.amazonComponents });
  return { service, scheduler: new PipelineScheduler({ pipelines: service, clock: o.clock, log: o.log, leading: o.leading }) };
}
