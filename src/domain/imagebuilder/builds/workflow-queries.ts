// ListWorkflowExecutions, GetWorkflowExecution, ListWorkflowStepExecutions and
// GetWorkflowStepExecution over the records the workflow writes (workflow-records.ts).
import type {
  GetWorkflowExecutionResponse, GetWorkflowStepExecutionResponse, ListWorkflowExecutionsResponse, ListWorkflowStepExecutionsResponse,
  WorkflowExecutionMetadata, WorkflowStepMetadata,
} from '../../../protocol/imagebuilder/types.generated.ts';
import type { ImageBuilderRepository, IbRecord } from '../../../ports/imagebuilder-repository.ts';
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import { page } from '../resources/records.ts';
import { workflowExecutionToWire, workflowStepToWire } from '../resources/wire-mappers.ts';
import type { StepDoc, WorkflowDoc } from './workflow-records.ts';

type Page = { maxResults?: number; nextToken?: string };

async function owned(records: ImageBuilderRepository, caller: Caller, id: string, kind: IbRecord['kind'], what: string): Promise<IbRecord> {
  const r = await records.get(id);
  if (!r || r.kind !== kind || r.account !== caller.account || r.region !== caller.region) throw Errors.ibNotFound(`The ${what} '${id}' does not exist.`);
  return r;
}

export async function listWorkflowExecutions(records: ImageBuilderRepository, caller: Caller, imageArn: string, p: Page): Promise<Omit<ListWorkflowExecutionsResponse, 'requestId'>> {
  await owned(records, caller, imageArn, 'image', 'image');
  const order = ['BUILD', 'TEST', 'DISTRIBUTION'];
  const all = (await records.list({ kind: 'workflow-execution', parent: imageArn, account: caller.account, region: caller.region }))
    .sort((a, b) => order.indexOf((a.doc as WorkflowDoc).type!) - order.indexOf((b.doc as WorkflowDoc).type!));
  const { items: shown, nextToken } = page(all, p.maxResults, p.nextToken);
  return {
    imageBuildVersionArn: imageArn, nextToken,
    workflowExecutions: shown.map((r) => {
      const { imageBuildVersionArn: _image, ...meta } = workflowExecutionToWire(r.doc as WorkflowDoc);
      return meta as WorkflowExecutionMetadata;
    }),
  };
}

export async function getWorkflowExecution(records: ImageBuilderRepository, caller: Caller, id: string): Promise<Omit<GetWorkflowExecutionResponse, 'requestId'>> {
  return workflowExecutionToWire((await owned(records, caller, id, 'workflow-execution', 'workflow execution')).doc as WorkflowDoc);
}

export async function listWorkflowStepExecutions(records: ImageBuilderRepository, caller: Caller, workflowExecutionId: string, p: Page): Promise<Omit<ListWorkflowStepExecutionsResponse, 'requestId'>> {
  const wf = workflowExecutionToWire((await owned(records, caller, workflowExecutionId, 'workflow-execution', 'workflow execution')).doc as WorkflowDoc);
  const steps = (await records.list({ kind: 'workflow-step-execution', parent: workflowExecutionId }))
    .sort((a, b) => ((a.doc as StepDoc).sequence ?? 0) - ((b.doc as StepDoc).sequence ?? 0));
  const { items: shown, nextToken } = page(steps, p.maxResults, p.nextToken);
  return {
    workflowBuildVersionArn: wf.workflowBuildVersionArn, workflowExecutionId, imageBuildVersionArn: wf.imageBuildVersionArn, nextToken,
    steps: shown.map((r) => {
      const d = workflowStepToWire(r.doc as StepDoc);
      const meta: WorkflowStepMetadata = {
        stepExecutionId: d.stepExecutionId, name: d.name, description: d.description, action: d.action, status: d.status,
        rollbackStatus: d.rollbackStatus, message: d.message, inputs: d.inputs, outputs: d.outputs, startTime: d.startTime, endTime: d.endTime,
      };
      return meta;
    }),
  };
}

export async function getWorkflowStepExecution(records: ImageBuilderRepository, caller: Caller, stepExecutionId: string): Promise<Omit<GetWorkflowStepExecutionResponse, 'requestId'>> {
  return workflowStepToWire((await owned(records, caller, stepExecutionId, 'workflow-step-execution', 'workflow step execution')).doc as StepDoc);
}
