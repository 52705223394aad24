// What the resource rules need to know from EC2's side, in the caller's account and region. The
// server wires it over EC2's domain services (src/server/imagebuilder-wiring.ts); unit tests fake it.
import type { Caller } from '../../context.ts';

export interface Ec2Lookups {
  /**
   * The AMI's platform when the caller may launch it (visible to it, available, admitted by the
   * account's allowed-images setting); undefined otherwise.
   */
  launchableImage(caller: Caller, imageId: string): Promise<{ platform: 'Windows' | 'Linux' } | undefined>;
  instanceTypeExists(name: string): boolean;
  /** The VPC of the caller's security group, undefined when it has none with this id. */
  securityGroupVpc(caller: Caller, groupId: string): Promise<string | undefined>;
  /** The VPC of the caller's subnet, undefined when it has none with this id. */
  subnetVpc(caller: Caller, subnetId: string): Promise<string | undefined>;
  keyPairExists(caller: Caller, keyName: string): Promise<boolean>;
}
