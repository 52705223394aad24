// Wiring of Image Builder's resource services: the record store, the clock and the EC2 lookups
// the rules need (images a recipe may start from, instance types, the caller's network and keys).
import { parse } from 'yaml';
import { Errors } from '../domain/errors.ts';
import { ClientTokenService } from '../domain/imagebuilder/resources/client-tokens.ts';
import { ComponentService } from '../domain/imagebuilder/resources/component-service.ts';
import { IbTagService } from '../domain/imagebuilder/resources/tag-service.ts';
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
  /** The component document validator; a minimal one (YAML with phases) when not given. */
  validateDocument?: (data: string) => void;
  amazonComponents?: (region: string) => Component[];
}

/** Until the full validator is wired: the document must be YAML with a `phases` list. */
export function minimalDocumentCheck(data: string): void {
  let doc: unknown;
  try {
    doc = parse(data);
  } catch (err) {
    throw Errors.ibInvalidParameterValue(`The value supplied for parameter 'data' is not a valid YAML document: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray((doc as Record<string, unknown>).phases)) {
    throw Errors.ibInvalidParameterValue("The value supplied for parameter 'data' is not a valid component document: it has no 'phases' list.");
  }
}

export function createImageBuilderResources(d: ResourceWiringDeps) {
  const base = { store: d.store, clock: d.clock };
  const components = new ComponentService({
    ...base, validateDocument: d.validateDocument ?? minimalDocumentCheck, amazonComponents: d.amazonComponents ?? (() => []),
  });
  return {
    clientTokens: new ClientTokenService(base),
    components,
    tags: new IbTagService(base),
  };
}
