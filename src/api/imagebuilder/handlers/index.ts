// Every area's Image Builder handlers in one map; the dispatcher answers operations absent here
// as unsupported. Each area adds its import and one spread line.
import type { IbHandlers } from '../handler-types.ts';
import { buildHandlers } from './builds.ts';
import { componentHandlers } from './components.ts';
import { distributionHandlers } from './distribution.ts';
import { hygieneHandlers } from './hygiene.ts';
import { infrastructureHandlers } from './infrastructure.ts';
import { lifecycleHandlers } from './lifecycle.ts';
import { pipelineHandlers } from './pipelines.ts';
import { recipeHandlers } from './recipes.ts';
import { tagHandlers } from './tags.ts';

export const imageBuilderHandlers: IbHandlers = {
  ...componentHandlers,
  ...recipeHandlers,
  ...infrastructureHandlers,
  ...distributionHandlers,
  ...tagHandlers,
  ...hygieneHandlers,
  ...lifecycleHandlers,
  ...buildHandlers,
  ...pipelineHandlers,
};
