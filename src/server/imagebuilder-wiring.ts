// Wiring of Image Builder's resource services: the record store, the clock and the EC2 lookups
// the rules need (images a recipe may start from, instance types, the caller's network and keys).
import type { LeaseKeeper } from '../domain/cluster/lease-keeper.ts';
import { ClientTokenService } from '../domain/imagebuilder/resources/client-tokens.ts';
import { ComponentService } from '../domain/imagebuilder/resources/component-service.ts';
import { IbTagService } from '../domain/imagebuilder/resources/tag-service.ts';
import { DistributionConfigurationService } from '../domain/imagebuilder/resources/distribution-service.ts';
import type { Ec2Lookups } from '../domain/imagebuilder/resources/ec2-lookups.ts';
import { ImageRecipeService } from '../domain/imagebuilder/resources/image-recipe-service.ts';
import { InfrastructureConfigurationService } from '../domain/imagebuilder/resources/infrastructure-service.ts';
import { findInstanceType } from '../domain/instances/instance-types.ts';
import type { Component } from '../protocol/imagebuilder/types.generated.ts';
import type { AllowedImages } from '../domain/images/allowed-images.ts';
import type { ImageService } from '../domain/images/image-service.ts';
import type { Clock } from '../ports/clock.ts';
import type { ImageBuilderRepository } from '../ports/imagebuilder-repository.ts';
import type { KeyPairService } from '../domain/keypairs/key-pair-service.ts';
import type { SecurityGroupService } from '../domain/network/security-groups.ts';
import type { VpcService } from '../domain/network/vpc-service.ts';

export interface ResourceWiringDeps {
  store: ImageBuilderRepository;
  clock: Clock;
  ec2: { images: ImageService; allowedImages: AllowedImages; keyPairs: KeyPairService; securityGroups: SecurityGroupService; vpcs: VpcService };
  /** The component document validator (throws InvalidParameterValueException). */
  validateDocument: (data: string) => void;
  /** Amazon-managed components of a region. */
  amazonComponents: (region: string) => Component[];
  /** This node's work leases: a ClientToken's request acts once across nodes. */
  leases?: LeaseKeeper;
}

/** EC2's answers the resource rules need; any EC2 error means "no such thing for this caller". */
export function ec2Lookups(ec2: ResourceWiringDeps['ec2']): Ec2Lookups {
  const orUndefined = async <T>(f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch {
      return undefined;
    }
  };
  return {
    launchableImage: (caller, imageId) => orUndefined(async () => {
      const record = await ec2.images.findVisible(caller, imageId);
      await ec2.allowedImages.checkUse(caller, record);
      if (record.image.state !== 'available') throw new Error('not available');
      return { platform: record.image.platform === 'Windows' ? 'Windows' as const : 'Linux' as const };
    }),
    instanceTypeExists: (name) => !!findInstanceType(name),
    securityGroupVpc: (caller, groupId) => orUndefined(async () => (await ec2.securityGroups.find(caller, { GroupId: groupId })).vpcId),
    subnetVpc: (caller, subnetId) => orUndefined(async () => (await ec2.vpcs.describeSubnets(caller, { SubnetIds: [subnetId] })).Subnets[0]?.VpcId),
    keyPairExists: async (caller, keyName) => !!(await orUndefined(() => ec2.keyPairs.describe(caller, { KeyNames: [keyName] }))),
  };
}

export function createImageBuilderResources(d: ResourceWiringDeps) {
  const base = { store: d.store, clock: d.clock };
  const components = new ComponentService({
    ...base, validateDocument: d.validateDocument, amazonComponents: d.amazonComponents,
  });
  const ec2 = ec2Lookups(d.ec2);
  return {
    clientTokens: new ClientTokenService({ ...base, leases: d.leases }),
    components,
    imageRecipes: new ImageRecipeService({ ...base, components, ec2 }),
    infrastructure: new InfrastructureConfigurationService({ ...base, ec2 }),
    distribution: new DistributionConfigurationService(base),
    tags: new IbTagService(base),
  };
}
