// The image record's document and what the build workflow is given.
import type { LeaseKeeper } from '../../cluster/lease-keeper.ts';
import type {
  Component, DistributionConfiguration, Image, ImageRecipe, ImageState, ImageTestsConfiguration, InfrastructureConfiguration, OutputResources,
  WorkflowConfiguration,
} from '../../../protocol/imagebuilder/types.generated.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { GuestAccess } from '../../../ports/guest-session.ts';
import type { IdGenerator } from '../../../ports/ids.ts';
import type { ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type { Caller } from '../../context.ts';
import type { ComponentRunner } from '../components/executor.ts';
import type { BuildEc2 } from './build-ec2.ts';

/**
 * What starts a build: CreateImage's request, or what an image pipeline starts a build from. Its
 * clientToken is not here: the dispatcher answers a repeated token (ClientTokenService) before the
 * request reaches the build service.
 */
export interface StartBuildRequest {
  imageRecipeArn: string;
  infrastructureConfigurationArn: string;
  distributionConfigurationArn?: string;
  imageTestsConfiguration?: ImageTestsConfiguration;
  imagePipelineArn?: string;
  enhancedImageMetadataEnabled?: boolean;
  tags?: Record<string, string>;
  /** How the build was started: USER_INITIATED (CreateImage, StartImagePipelineExecution) or SCHEDULED (a pipeline's schedule). */
  buildType?: 'USER_INITIATED' | 'SCHEDULED';
}

/** An AMI a build made: where, and for which account (target accounts own their copies). */
export interface MadeImage {
  region: string;
  account: string;
  imageId: string;
}

/**
 * What a build has made in EC2 and not yet removed: written before each is made and after, so a
 * restart of the service finds (and ends) what a build in progress left.
 */
export interface BuildResources {
  instances: string[];
  keyName?: string;
  groupId?: string;
  images: MadeImage[];
}

/**
 * An image build version's record: Image Builder's members amiforge keeps (under the API's names;
 * the recipe and configurations as they were when the build started, in the API's shapes), and the
 * build's own bookkeeping. imageToWire (resources/wire-mappers.ts) maps it to Image.
 */
export interface ImageDoc {
  arn?: string;
  type?: 'AMI' | 'DOCKER';
  name?: string;
  /** `1.0.0/1`: the semantic version and the build number. */
  version?: string;
  platform?: 'Windows' | 'Linux' | 'macOS';
  enhancedImageMetadataEnabled?: boolean;
  osVersion?: string;
  state?: ImageState;
  imageRecipe?: ImageRecipe;
  sourcePipelineName?: string;
  sourcePipelineArn?: string;
  infrastructureConfiguration?: InfrastructureConfiguration;
  distributionConfiguration?: DistributionConfiguration;
  imageTestsConfiguration?: ImageTestsConfiguration;
  /** ISO 8601. */
  dateCreated?: string;
  outputResources?: OutputResources;
  tags?: Record<string, string>;
  buildType?: Image['buildType'];
  imageSource?: Image['imageSource'];
  /** Set by a lifecycle action that deprecated the image; read back from JSON as an ISO string. */
  deprecationTime?: Date | string;
  /** The lifecycle execution that last changed the image's state. */
  lifecycleExecutionId?: string;
  workflows?: WorkflowConfiguration[];
  /** What a running build made and must clean up (instances, key pair, security group, AMIs). */
  buildResources?: BuildResources;
  /** The last hygiene scan of the build's AMI: `{ scannedAt, report }`, read by ListImageScanFindings. */
  hygieneScan?: { scannedAt: string; report: unknown };
  /** The AMI's installed packages once read (ListImagePackages). */
  installedPackages?: unknown[];
}

export interface HygieneFinding {
  severity: 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL';
  kind: string;
  path: string;
  detail: string;
}

/** The offline scan of an image's root filesystem (the hygiene scanner). */
export interface HygieneGate {
  scan(caller: Caller, imageId: string): Promise<{ imageId: string; findings: HygieneFinding[] }>;
}

export interface BuildTiming {
  /** How long the guest may take to answer a session after it is running. */
  guestTimeoutMs: number;
}

export interface BuildServiceDeps {
  records: ImageBuilderRepository;
  ec2: BuildEc2;
  clock: Clock;
  ids: IdGenerator;
  runComponents: ComponentRunner;
  guestAccess: GuestAccess;
  hygiene?: HygieneGate;
  /** Amazon-managed components (owner `aws`), for recipes that name them. */
  managedComponents?: (region: string) => Component[];
  timing?: Partial<BuildTiming>;
  onError?: (what: string, err: unknown) => void;
  /**
   * Several nodes on one store: a build runs under the lease image-build:ARN of its node, and
   * only builds whose lease expired (their node died) are failed by recover().
   */
  leases?: Pick<LeaseKeeper, 'acquire' | 'release'>;
  /** Writes a distribution's ssmParameterConfigurations: the output AMI id in a Systems Manager parameter. */
  publishParameter?: (owner: { account: string; region: string }, name: string, imageId: string, dataType: 'text' | 'aws:ec2:image') => Promise<void>;
}

export const TERMINAL_STATES = ['AVAILABLE', 'FAILED', 'CANCELLED', 'DEPRECATED', 'DISABLED', 'DELETED'];
export const RUNNING_STATES = ['PENDING', 'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING'];

/** The component that runs the offline hygiene scan as a test, instead of commands in the guest. */
export const HYGIENE_COMPONENT = 'amiforge-hygiene-scan-linux';
/** A recipe tag that lets a build share an image the hygiene scan objects to. */
export const HYGIENE_OPT_OUT_TAG = 'amiforge:hygiene';
