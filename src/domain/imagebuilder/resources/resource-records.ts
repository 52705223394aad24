// What amiforge keeps of the Image Builder resources a caller creates: the record types the store
// holds, members listed here rather than borrowed from the generated API model, so a change of
// the model does not change what is stored (wire-mappers.ts maps them, member by member). Member
// names are the API's, which are camelCase already; nested values (a recipe's components, a
// distribution's settings, ...) keep the API's nested shapes for now (docs/migrations.md).
import type {
  AdditionalInstanceConfiguration, ComponentConfiguration, ComponentParameterDetail, Distribution, InstanceBlockDeviceMapping,
  InstanceMetadataOptions, LifecyclePolicyDetail, LifecyclePolicyResourceSelection, Logging, Placement,
} from '../../../protocol/imagebuilder/types.generated.ts';

export type IbPlatform = 'Windows' | 'Linux' | 'macOS';

/** A component build version (`.../component/NAME/1.0.0/1`): its document and what it declares. */
export interface ComponentRecord {
  arn: string;
  name: string;
  /** The semantic version, `1.0.0`. */
  version: string;
  type?: 'BUILD' | 'TEST';
  platform?: IbPlatform;
  state: { status?: 'DEPRECATED' | 'DISABLED' | 'ACTIVE' };
  owner: string;
  /** The YAML document, as the caller sent it (or made from an imported script). */
  data: string;
  encrypted?: boolean;
  /** ISO 8601. */
  dateCreated: string;
  tags?: Record<string, string>;
  description?: string;
  changeDescription?: string;
  supportedOsVersions?: string[];
  /** The document's declared parameters. */
  parameters?: ComponentParameterDetail[];
  kmsKeyId?: string;
}

export interface ImageRecipeRecord {
  arn: string;
  type?: 'AMI' | 'DOCKER';
  name: string;
  platform?: IbPlatform;
  owner: string;
  version: string;
  components?: ComponentConfiguration[];
  /** An AMI id or an Image Builder image ARN (a version, possibly with wildcards). */
  parentImage?: string;
  dateCreated: string;
  tags?: Record<string, string>;
  description?: string;
  blockDeviceMappings?: InstanceBlockDeviceMapping[];
  workingDirectory?: string;
  additionalInstanceConfiguration?: AdditionalInstanceConfiguration;
  amiTags?: Record<string, string>;
}

export interface InfrastructureConfigurationRecord {
  arn: string;
  name: string;
  description?: string;
  instanceTypes?: string[];
  instanceProfileName?: string;
  securityGroupIds?: string[];
  subnetId?: string;
  logging?: Logging;
  keyPair?: string;
  terminateInstanceOnFailure?: boolean;
  snsTopicArn?: string;
  dateCreated?: string;
  dateUpdated?: string;
  resourceTags?: Record<string, string>;
  instanceMetadataOptions?: InstanceMetadataOptions;
  tags?: Record<string, string>;
  placement?: Placement;
}

export interface DistributionConfigurationRecord {
  arn: string;
  name: string;
  description?: string;
  distributions?: Distribution[];
  timeoutMinutes: number;
  dateCreated?: string;
  dateUpdated?: string;
  tags?: Record<string, string>;
}

/** A lifecycle policy: its rules, what it selects, and when it last ran. */
export interface LifecyclePolicyRecord {
  arn?: string;
  name?: string;
  description?: string;
  status?: 'DISABLED' | 'ENABLED';
  executionRole?: string;
  resourceType?: 'AMI_IMAGE' | 'CONTAINER_IMAGE';
  policyDetails?: LifecyclePolicyDetail[];
  resourceSelection?: LifecyclePolicyResourceSelection;
  /** Written as Dates, read back from JSON as ISO strings (as the other dates). */
  dateCreated?: Date | string;
  dateUpdated?: Date | string;
  /** When its last execution started. */
  dateLastRun?: Date | string;
  tags?: Record<string, string>;
}
