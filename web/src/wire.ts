// The services' answers as the console receives them: the types generated from AWS's models
// (src/protocol/*/types.generated.ts, types only, nothing of the server is bundled), with
// timestamps as JSON carries them: ISO strings (EC2 through the console, Image Builder) or epoch
// seconds (KMS, the Recycle Bin's rules).
import type * as Ec2 from '../../src/protocol/ec2/types.generated.ts';
import type * as Kms from '../../src/protocol/kms/types.generated.ts';
import type * as Rbin from '../../src/protocol/rbin/types.generated.ts';
import type * as Ib from '../../src/protocol/imagebuilder/types.generated.ts';

export type OnTheWire<T> = T extends Date ? string | number
  : T extends (infer U)[] ? OnTheWire<U>[]
  : T extends object ? { [K in keyof T]: OnTheWire<T[K]> }
  : T;

export type KeyPairInfo = OnTheWire<Ec2.KeyPairInfo>;
export type CreatedKeyPair = OnTheWire<Ec2.KeyPair>;
export type ImageRecycleBinInfo = OnTheWire<Ec2.ImageRecycleBinInfo>;
export type SnapshotRecycleBinInfo = OnTheWire<Ec2.SnapshotRecycleBinInfo>;

export type KeyMetadata = OnTheWire<Kms.KeyMetadata>;
export type AliasListEntry = OnTheWire<Kms.AliasListEntry>;
export type GrantListEntry = OnTheWire<Kms.GrantListEntry>;

export type RetentionRule = OnTheWire<Rbin.GetRuleResponse>;
export type RuleSummary = OnTheWire<Rbin.RuleSummary>;
export type RuleResourceTag = Rbin.ResourceTag;

export type ImagePipeline = Ib.ImagePipeline;
export type ImageSummary = OnTheWire<Ib.ImageSummary>;
export type IbImage = OnTheWire<Ib.Image>;
export type IbAmi = Ib.Ami;
export type WorkflowExecution = Ib.WorkflowExecutionMetadata;
export type WorkflowStep = Ib.WorkflowStepMetadata;
export type ImageRecipeSummary = OnTheWire<Ib.ImageRecipeSummary>;
export type ComponentVersion = OnTheWire<Ib.ComponentVersion>;
export type InfrastructureConfigurationSummary = OnTheWire<Ib.InfrastructureConfigurationSummary>;
export type DistributionConfigurationSummary = OnTheWire<Ib.DistributionConfigurationSummary>;
