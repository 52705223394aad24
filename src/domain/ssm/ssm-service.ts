// Systems Manager, as far as amiforge serves it: parameters (src/domain/ssm/*).
import { ParameterQueries } from './parameter-queries.ts';
import { ParameterService, type ParameterServiceDeps } from './parameter-service.ts';

export class SsmService {
  readonly parameters: ParameterService;
  readonly queries: ParameterQueries;
  constructor(deps: ParameterServiceDeps) {
    this.parameters = new ParameterService(deps);
    this.queries = new ParameterQueries(this.parameters);
  }
}
