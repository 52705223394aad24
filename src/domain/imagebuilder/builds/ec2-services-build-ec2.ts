// BuildEc2 over EC2's domain services, in process: each method is what the EC2 API handler of the
// same name does (src/api/ec2), called as the build's account. Waits poll the store through the
// same services every `pollMs`, and stop at once when the build's signal aborts.
import type { Ec2Services } from '../../../api/ec2/handler.ts';
import type { RunInstancesRequest, Tag, TagSpecification } from '../../../protocol/ec2/types.generated.ts';
import type { Caller } from '../../context.ts';
import type { BuildEc2, CopySpec, LaunchSpec } from './build-ec2.ts';
import { pause } from './pause.ts';

export type BuildEc2Services = Pick<Ec2Services, 'keyPairs' | 'securityGroups' | 'vpcs' | 'launcher' | 'instances' | 'lifecycle' | 'imageCreator' | 'imageCopies' | 'images' | 'snapshots'>;

const tagList = (tags: Record<string, string>): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const spec = (type: string, tags: Record<string, string>): TagSpecification[] =>
  Object.keys(tags).length ? [{ ResourceType: type as TagSpecification['ResourceType'], Tags: tagList(tags) }] : [];

const codeOf = (err: unknown) => (err as { code?: string }).code ?? '';

export function ec2ServicesBuildEc2(s: BuildEc2Services, o: { pollMs: number }): BuildEc2 {
  const instanceState = async (caller: Caller, id: string) => s.instances.find(caller, id);
  return {
    async createKeyPair(caller, name) {
      const key = await s.keyPairs.create(caller, { KeyName: name, KeyType: 'ed25519' });
      return { privateKey: key.KeyMaterial! };
    },
    async deleteKeyPair(caller, name) {
      await s.keyPairs.delete(caller, { KeyName: name });
    },
    async createSshGroup(caller, name, subnetId) {
      const vpcId = subnetId ? (await s.vpcs.describeSubnets(caller, { SubnetIds: [subnetId] })).Subnets[0]?.VpcId : undefined;
      const { GroupId } = await s.securityGroups.create(caller, {
        GroupName: name, Description: 'Temporary SSH access for an Image Builder build', VpcId: vpcId,
      });
      await s.securityGroups.authorize(caller, {
        GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }, false);
      return GroupId!;
    },
    async deleteSecurityGroup(caller, groupId) {
      await s.securityGroups.delete(caller, { GroupId: groupId });
    },
    async runInstance(caller, l: LaunchSpec) {
      const req: RunInstancesRequest = {
        ImageId: l.imageId, InstanceType: l.instanceType as RunInstancesRequest['InstanceType'], MinCount: 1, MaxCount: 1,
        KeyName: l.keyName, SecurityGroupIds: l.securityGroupIds, SubnetId: l.subnetId, UserData: l.userData,
        BlockDeviceMappings: l.blockDeviceMappings as RunInstancesRequest['BlockDeviceMappings'],
        TagSpecifications: [...spec('instance', l.tags), ...spec('volume', l.tags)],
      };
      const reservation = await s.launcher.run(caller, req);
      return reservation.Instances![0].InstanceId!;
    },
    async waitRunning(caller, id, signal) {
      for (;;) {
        const r = await instanceState(caller, id);
        if (r.state === 'running') return { publicIp: r.publicIpAddress };
        if (r.state !== 'pending') throw new Error(`The instance ${id} is ${r.state}: ${r.stateReason?.message ?? r.stateTransitionReason}`);
        await pause(o.pollMs, signal);
      }
    },
    async stopInstance(caller, id, signal) {
      await s.lifecycle.stop(caller, [id]);
      for (;;) {
        const r = await instanceState(caller, id);
        if (r.state === 'stopped') return;
        if (r.state !== 'stopping' && r.state !== 'running') throw new Error(`The instance ${id} is ${r.state} while it was being stopped.`);
        await pause(o.pollMs, signal);
      }
    },
    async terminateInstance(caller, id) {
      try {
        await s.lifecycle.terminate(caller, [id]);
      } catch (err) {
        if (codeOf(err).startsWith('InvalidInstanceID')) return;
        throw err;
      }
      for (;;) {
        const r = await instanceState(caller, id).catch(() => undefined);
        if (!r || r.state === 'terminated') return;
        await pause(o.pollMs);
      }
    },
    async createImage(caller, instanceId, name, description, tags) {
      return s.imageCreator.create(caller, {
        InstanceId: instanceId, Name: name, Description: description,
        TagSpecifications: [...spec('image', tags), ...spec('snapshot', tags)],
      });
    },
    async copyImage(caller, c: CopySpec) {
      const { ImageId } = await s.imageCopies.copy(caller, {
        SourceRegion: c.sourceRegion, SourceImageId: c.sourceImageId, Name: c.name, Description: c.description,
        Encrypted: c.kmsKeyId ? true : undefined, KmsKeyId: c.kmsKeyId, TagSpecifications: spec('image', c.tags),
      });
      return ImageId;
    },
    async waitImageAvailable(caller, imageId, signal) {
      for (;;) {
        const { image } = await s.images.findOwned(caller, imageId);
        if (image.state === 'available') return;
        if (image.state !== 'pending') throw new Error(`The image ${imageId} is ${image.state}${image.stateReason?.message ? `: ${image.stateReason.message}` : ''}`);
        await pause(o.pollMs, signal);
      }
    },
    async addLaunchPermissions(caller, imageId, add) {
      if (add.length) await s.images.modifyAttribute(caller, { ImageId: imageId, LaunchPermission: { Add: add } });
    },
    async shareSnapshots(caller, imageId, account, share) {
      const { image } = await s.images.findOwned(caller, imageId);
      for (const m of image.blockDeviceMappings ?? []) {
        if (!m.ebs?.snapshotId) continue;
        const change = [{ UserId: account }];
        await s.snapshots.modifyAttribute(caller, {
          SnapshotId: m.ebs.snapshotId, Attribute: 'createVolumePermission',
          CreateVolumePermission: share ? { Add: change } : { Remove: change },
        });
      }
    },
    async deregisterImage(caller, imageId) {
      try {
        await s.images.deregister(caller, { ImageId: imageId, DeleteAssociatedSnapshots: true });
      } catch (err) {
        if (codeOf(err).startsWith('InvalidAMIID')) return;
        throw err;
      }
    },
    async imageExists(caller, imageId) {
      return s.images.findOwned(caller, imageId).then(() => true, () => false);
    },
  };
}
