// Shared fixtures of the resource services' unit tests: an in-memory store, a fixed clock, fake
// EC2 lookups and the services wired together as the server wires them.
import { SqliteMetadataStore } from '../../../adapters/sqlite/sqlite-store.ts';
import type { Caller } from '../../context.ts';
import type { Component } from '../../../protocol/imagebuilder/types.generated.ts';
import { ClientTokenService } from './client-tokens.ts';
import { ComponentService } from './component-service.ts';
import { DistributionConfigurationService } from './distribution-service.ts';
import type { Ec2Lookups } from './ec2-lookups.ts';
import { ImageRecipeService } from './image-recipe-service.ts';
import { InfrastructureConfigurationService } from './infrastructure-service.ts';
import { IbTagService } from './tag-service.ts';

export const ALICE: Caller = { account: '111111111111', region: 'us-east-1' };
export const BOB: Caller = { account: '222222222222', region: 'us-east-1' };

export const DOC = 'name: t\nschemaVersion: 1.0\nparameters:\n  - greeting:\n      type: string\n      default: hi\nphases:\n  - name: build\n    steps:\n      - name: s\n        action: ExecuteBash\n        inputs:\n          commands: ["echo {{ greeting }}"]\n';

/** A public ami-0123456789abcdef0 (Linux); Alice's sg-1/subnet-1 in vpc-a, sg-2 in vpc-b, key pair `k`. */
export const fakeEc2: Ec2Lookups = {
  launchableImage: async (_caller, id) => (id === 'ami-0123456789abcdef0' ? { platform: 'Linux' } : undefined),
  instanceTypeExists: (name) => ['t3.micro', 'm5.large'].includes(name),
  securityGroupVpc: async (caller, id) => (caller.account === ALICE.account ? ({ 'sg-1': 'vpc-a', 'sg-2': 'vpc-b' } as Record<string, string>)[id] : undefined),
  subnetVpc: async (caller, id) => (caller.account === ALICE.account && id === 'subnet-1' ? 'vpc-a' : undefined),
  keyPairExists: async (caller, name) => caller.account === ALICE.account && name === 'k',
};

export function resources(amazon: Component[] = []) {
  const store = new SqliteMetadataStore(':memory:').imageBuilder;
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => new Date((now += 1000)) };
  const validateDocument = (data: string) => {
    if (!data.includes('phases')) throw new Error('no phases');
  };
  const components = new ComponentService({ store, clock, validateDocument, amazonComponents: () => amazon });
  return {
    store,
    clientTokens: new ClientTokenService({ store, clock }),
    components,
    recipes: new ImageRecipeService({ store, clock, components, ec2: fakeEc2 }),
    infrastructure: new InfrastructureConfigurationService({ store, clock, ec2: fakeEc2 }),
    distribution: new DistributionConfigurationService({ store, clock }),
    tags: new IbTagService({ store, clock }),
  };
}
