// Image Builder's stored records and its wire shapes: the one place that knows both. A record
// keeps Image Builder's public members under their API names (the API's members are camelCase
// already) beside amiforge's own bookkeeping, which has names of its own and never reaches the
// wire: each kind's mapper below drops it. A new private member is added to its record type and
// dropped here; renaming a stored member is a migration (src/adapters/*/migration-ib-records.ts).
import type { IbKind, IbRecord } from '../../../ports/imagebuilder-repository.ts';
import type {
  Component, DistributionConfiguration, GetWorkflowExecutionResponse, GetWorkflowStepExecutionResponse, Image, ImagePipeline, ImageRecipe, InfrastructureConfiguration, LifecycleExecution,
  LifecycleExecutionResource, LifecyclePolicy,
} from '../../../protocol/imagebuilder/types.generated.ts';
import type { ImageDoc } from '../builds/build-types.ts';
import type { StepDoc, WorkflowDoc } from '../builds/workflow-records.ts';
import type { PipelineDoc } from '../pipelines/pipeline-document.ts';
import type {
  ComponentRecord, DistributionConfigurationRecord, ImageRecipeRecord, InfrastructureConfigurationRecord, LifecyclePolicyRecord,
} from './resource-records.ts';
import { asDate, toWireExecution, toWireResource, type ExecutionDoc, type ResourceDoc } from '../lifecycle/execution-records.ts';

export type { ComponentRecord, DistributionConfigurationRecord, ImageRecipeRecord, InfrastructureConfigurationRecord, LifecyclePolicyRecord };


/** Drops undefined members, so a wire object has only the members the record has. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function componentToWire(r: ComponentRecord): Component {
  return defined({
    arn: r.arn, name: r.name, version: r.version, description: r.description, changeDescription: r.changeDescription, type: r.type,
    platform: r.platform, supportedOsVersions: r.supportedOsVersions, state: r.state, parameters: r.parameters, owner: r.owner, data: r.data,
    kmsKeyId: r.kmsKeyId, encrypted: r.encrypted, dateCreated: r.dateCreated, tags: r.tags,
  });
}

export function imageRecipeToWire(r: ImageRecipeRecord): ImageRecipe {
  return defined({
    arn: r.arn, type: r.type, name: r.name, description: r.description, platform: r.platform, owner: r.owner, version: r.version,
    components: r.components, parentImage: r.parentImage, blockDeviceMappings: r.blockDeviceMappings, dateCreated: r.dateCreated, tags: r.tags,
    workingDirectory: r.workingDirectory, additionalInstanceConfiguration: r.additionalInstanceConfiguration, amiTags: r.amiTags,
  });
}

export function infrastructureConfigurationToWire(r: InfrastructureConfigurationRecord): InfrastructureConfiguration {
  return defined({
    arn: r.arn, name: r.name, description: r.description, instanceTypes: r.instanceTypes, instanceProfileName: r.instanceProfileName,
    securityGroupIds: r.securityGroupIds, subnetId: r.subnetId, logging: r.logging, keyPair: r.keyPair,
    terminateInstanceOnFailure: r.terminateInstanceOnFailure, snsTopicArn: r.snsTopicArn, dateCreated: r.dateCreated, dateUpdated: r.dateUpdated,
    resourceTags: r.resourceTags, instanceMetadataOptions: r.instanceMetadataOptions, tags: r.tags, placement: r.placement,
  });
}

export function distributionConfigurationToWire(r: DistributionConfigurationRecord): DistributionConfiguration {
  return defined({
    arn: r.arn, name: r.name, description: r.description, distributions: r.distributions, timeoutMinutes: r.timeoutMinutes,
    dateCreated: r.dateCreated, dateUpdated: r.dateUpdated, tags: r.tags,
  });
}

/** An image build version, without the build's own bookkeeping (its resources while it runs, its hygiene scan, its package list). */
export function imageToWire(r: ImageDoc): Image {
  return defined({
    arn: r.arn, type: r.type, name: r.name, version: r.version, platform: r.platform, enhancedImageMetadataEnabled: r.enhancedImageMetadataEnabled,
    osVersion: r.osVersion, state: r.state, imageRecipe: r.imageRecipe, sourcePipelineName: r.sourcePipelineName, sourcePipelineArn: r.sourcePipelineArn,
    infrastructureConfiguration: r.infrastructureConfiguration, distributionConfiguration: r.distributionConfiguration,
    imageTestsConfiguration: r.imageTestsConfiguration, dateCreated: r.dateCreated, outputResources: r.outputResources, tags: r.tags,
    buildType: r.buildType, imageSource: r.imageSource,
    // The codec writes a stored ISO string as it writes a Date.
    deprecationTime: r.deprecationTime as Date | undefined, lifecycleExecutionId: r.lifecycleExecutionId, workflows: r.workflows,
  });
}

/** A pipeline, without what is amiforge's own: where its schedule counts from, the last build it started. */
export function pipelineToWire(r: PipelineDoc): ImagePipeline {
  return defined({
    arn: r.arn, name: r.name, description: r.description, platform: r.platform, enhancedImageMetadataEnabled: r.enhancedImageMetadataEnabled,
    imageRecipeArn: r.imageRecipeArn, infrastructureConfigurationArn: r.infrastructureConfigurationArn,
    distributionConfigurationArn: r.distributionConfigurationArn, imageTestsConfiguration: r.imageTestsConfiguration, schedule: r.schedule,
    status: r.status, dateCreated: r.dateCreated, dateUpdated: r.dateUpdated, dateLastRun: r.dateLastRun, lastRunStatus: r.lastRunStatus,
    dateNextRun: r.dateNextRun, tags: r.tags, imageScanningConfiguration: r.imageScanningConfiguration, imageTags: r.imageTags,
    executionRole: r.executionRole, workflows: r.workflows, loggingConfiguration: r.loggingConfiguration, consecutiveFailures: r.consecutiveFailures,
  });
}

export function lifecyclePolicyToWire(r: LifecyclePolicyRecord): LifecyclePolicy {
  return defined({
    arn: r.arn, name: r.name, description: r.description, status: r.status, executionRole: r.executionRole, resourceType: r.resourceType,
    policyDetails: r.policyDetails, resourceSelection: r.resourceSelection, dateCreated: asDate(r.dateCreated), dateUpdated: asDate(r.dateUpdated),
    dateLastRun: asDate(r.dateLastRun), tags: r.tags,
  });
}

export type WorkflowExecutionWire = Omit<GetWorkflowExecutionResponse, 'requestId'>;
export type WorkflowStepWire = Omit<GetWorkflowStepExecutionResponse, 'requestId'>;

export function workflowExecutionToWire(r: WorkflowDoc): WorkflowExecutionWire {
  return defined({
    workflowBuildVersionArn: r.workflowBuildVersionArn, workflowExecutionId: r.workflowExecutionId, imageBuildVersionArn: r.imageBuildVersionArn,
    type: r.type, status: r.status, message: r.message, totalStepCount: r.totalStepCount, totalStepsSucceeded: r.totalStepsSucceeded,
    totalStepsFailed: r.totalStepsFailed, totalStepsSkipped: r.totalStepsSkipped, startTime: r.startTime, endTime: r.endTime,
  });
}

/** A workflow step, without its place in the workflow and its log lines (the log is shown inside `outputs`). */
export function workflowStepToWire(r: StepDoc): WorkflowStepWire {
  return defined({
    stepExecutionId: r.stepExecutionId, workflowBuildVersionArn: r.workflowBuildVersionArn, workflowExecutionId: r.workflowExecutionId,
    imageBuildVersionArn: r.imageBuildVersionArn, name: r.name, description: r.description, action: r.action, status: r.status,
    rollbackStatus: r.rollbackStatus, message: r.message, inputs: r.inputs, outputs: r.outputs, startTime: r.startTime, endTime: r.endTime,
    onFailure: r.onFailure, timeoutSeconds: r.timeoutSeconds,
  });
}

type WireOf = {
  component: Component; 'image-recipe': ImageRecipe; 'infrastructure-configuration': InfrastructureConfiguration;
  'distribution-configuration': DistributionConfiguration; 'image-pipeline': ImagePipeline; image: Image; 'lifecycle-policy': LifecyclePolicy;
  'workflow-execution': WorkflowExecutionWire; 'workflow-step-execution': WorkflowStepWire; 'lifecycle-execution': LifecycleExecution;
  'lifecycle-execution-resource': LifecycleExecutionResource;
};
type WireKind = keyof WireOf;

/** A record's document as the API answers with it, whatever its kind. */
export function recordToWire<K extends WireKind>(record: IbRecord & { kind: K }): WireOf[K];
export function recordToWire(record: IbRecord): WireOf[WireKind];
export function recordToWire(record: IbRecord): WireOf[WireKind] {
  const doc = record.doc as never;
  const kind: IbKind = record.kind;
  switch (kind) {
    case 'component': return componentToWire(doc);
    case 'image-recipe': return imageRecipeToWire(doc);
    case 'infrastructure-configuration': return infrastructureConfigurationToWire(doc);
    case 'distribution-configuration': return distributionConfigurationToWire(doc);
    case 'image-pipeline': return pipelineToWire(doc);
    case 'image': return imageToWire(doc);
    case 'lifecycle-policy': return lifecyclePolicyToWire(doc);
    case 'workflow-execution': return workflowExecutionToWire(doc);
    case 'workflow-step-execution': return workflowStepToWire(doc);
    case 'lifecycle-execution': return toWireExecution(doc as ExecutionDoc);
    case 'lifecycle-execution-resource': return toWireResource(doc as ResourceDoc);
    case 'client-token': throw new Error('a ClientToken record has no wire shape');
  }
}
