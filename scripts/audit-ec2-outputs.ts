// Which output members of the EC2 operations amiforge implements it never returns. Starts a
// server in dev mode, seeds it (a key pair, a security group, volumes, snapshots and their
// copies, images and their copies, an instance and its image), then calls every implemented
// operation whose input has no required member; each answer, read by @aws-sdk/client-ec2, is
// walked against the output shape of botocore's model. Members of a structure that was reached
// but never filled are listed per operation; a structure never reached is not (nothing to say).
//
//   node scripts/audit-ec2-outputs.ts [--json]
import * as Ec2 from '@aws-sdk/client-ec2';
import { implementedEc2Actions } from '../src/api/ec2/dispatcher.ts';
import { ec2Model } from '../src/protocol/ec2/model.ts';
import { devCredentials, ec2Client } from '../test/support/clients.ts';
import { CATALOGUE_AMI } from '../test/support/instances.ts';
import { startServer } from '../test/support/server.ts';

type Output = Record<string, unknown>;
/** Per operation, per member path (`Volumes[].Iops`): seen filled at least once. */
const seen = new Map<string, Map<string, boolean>>();
const failures = new Map<string, string>();

function walk(shapeName: string, value: unknown, path: string, tally: Map<string, boolean>, depth = 0): void {
  const shape = ec2Model.shapes[shapeName];
  if (value === undefined || value === null || !shape || depth > 12) return;
  if (shape.type === 'structure') {
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const member = (value as Output)[name];
      const at = path ? `${path}.${name}` : name;
      tally.set(at, (tally.get(at) ?? false) || member !== undefined);
      walk(ref.shape, member, at, tally, depth + 1);
    }
  } else if (shape.type === 'list' && Array.isArray(value)) {
    for (const item of value) walk(shape.member!.shape, item, `${path}[]`, tally, depth + 1);
  }
}

function main(): Promise<void> {
  return run().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

async function run(): Promise<void> {
  const server = await startServer({ extraArgs: ['--sim-boot-ms', '0'] });
  try {
    const ec2 = ec2Client(server.endpoint, devCredentials('123456789012'));
    const call = async (action: string, input: Output = {}): Promise<Output> => {
      const Command = (Ec2 as unknown as Record<string, new (i: Output) => object>)[`${action}Command`];
      try {
        const out = await ec2.send(new Command(input) as never) as unknown as Output;
        const op = ec2Model.operations[action];
        const tally = seen.get(action) ?? new Map<string, boolean>();
        seen.set(action, tally);
        if (op?.output) walk(op.output, out, '', tally);
        return out;
      } catch (err) {
        failures.set(action, `${(err as Error).name}: ${(err as Error).message}`);
        return {};
      }
    };
    await seed(call);
    for (const action of implementedEc2Actions()) {
      if (seen.has(action)) continue;
      const input = ec2Model.operations[action]?.input;
      if (input && ec2Model.shapes[input].required?.length) continue;
      await call(action);
    }
    report();
  } finally {
    await server.stop();
  }
}

type Call = (action: string, input?: Output) => Promise<Output>;

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
}

/** State for the Describe* calls to find, made by the operations that make it. */
async function seed(call: Call): Promise<void> {
  const tags = (type: string) => [{ ResourceType: type, Tags: [{ Key: 'audit', Value: type }] }];
  await call('CreateKeyPair', { KeyName: 'audit', TagSpecifications: tags('key-pair') });
  const group = await call('CreateSecurityGroup', { GroupName: 'audit', Description: 'audit', TagSpecifications: tags('security-group') });
  await call('AuthorizeSecurityGroupIngress', {
    GroupId: group.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'ssh' }] }],
  });
  const gp3 = await call('CreateVolume', { AvailabilityZone: 'us-east-1a', Size: 1, VolumeType: 'gp3', TagSpecifications: tags('volume') });
  const io2 = await call('CreateVolume', { AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'io2', Iops: 1000, MultiAttachEnabled: true });
  await call('ModifyVolume', { VolumeId: io2.VolumeId, Iops: 2000 });
  await call('ModifyVolume', { VolumeId: gp3.VolumeId, Throughput: 200 });
  const snap = await call('CreateSnapshot', { VolumeId: gp3.VolumeId, Description: 'audit', TagSpecifications: tags('snapshot') });
  const completed = async (id: unknown) => until(async () => ((await call('DescribeSnapshots', { SnapshotIds: [id] })).Snapshots as Output[])?.[0]?.State === 'completed');
  await completed(snap.SnapshotId);
  const copy = await call('CopySnapshot', { SourceRegion: 'us-east-1', SourceSnapshotId: snap.SnapshotId, Description: 'audit copy' });
  await completed(copy.SnapshotId);
  await call('ModifySnapshotAttribute', { SnapshotId: snap.SnapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: ['210987654321'] });
  await call('DescribeSnapshotAttribute', { SnapshotId: snap.SnapshotId, Attribute: 'createVolumePermission' });
  const image = await call('RegisterImage', {
    Name: 'audit', Description: 'audit', RootDeviceName: '/dev/xvda', Architecture: 'x86_64', VirtualizationType: 'hvm', EnaSupport: true,
    BootMode: 'uefi', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap.SnapshotId } }], TagSpecifications: tags('image'),
  });
  await call('ModifyImageAttribute', { ImageId: image.ImageId, LaunchPermission: { Add: [{ UserId: '210987654321' }] } });
  for (const Attribute of ['description', 'launchPermission', 'bootMode', 'blockDeviceMapping']) await call('DescribeImageAttribute', { ImageId: image.ImageId, Attribute });
  await call('CopyImage', { SourceRegion: 'us-east-1', SourceImageId: image.ImageId, Name: 'audit copy' });
  await call('EnableImageDeprecation', { ImageId: image.ImageId, DeprecateAt: new Date(Date.now() + 86_400_000) });
  const run = await call('RunInstances', {
    ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, KeyName: 'audit', SecurityGroupIds: [group.GroupId], TagSpecifications: tags('instance'),
  });
  const instanceId = (run.Instances as Output[])[0].InstanceId;
  const reaches = (state: string) => until(async () => {
    const r = (await call('DescribeInstances', { InstanceIds: [instanceId] })).Reservations as Output[];
    return ((r?.[0]?.Instances as Output[])?.[0]?.State as Output)?.Name === state;
  });
  await reaches('running');
  await call('DescribeInstanceStatus', { InstanceIds: [instanceId] });
  await call('GetConsoleOutput', { InstanceId: instanceId });
  for (const Attribute of ['instanceType', 'userData', 'blockDeviceMapping', 'groupSet']) await call('DescribeInstanceAttribute', { InstanceId: instanceId, Attribute });
  await call('AttachVolume', { VolumeId: gp3.VolumeId, InstanceId: instanceId, Device: '/dev/sdf' });
  await call('DescribeVolumes');
  await call('DetachVolume', { VolumeId: gp3.VolumeId });
  const made = await call('CreateImage', { InstanceId: instanceId, Name: 'audit from instance' });
  await call('GetImageAncestry', { ImageId: made.ImageId });
  await call('CreateSnapshots', { InstanceSpecification: { InstanceId: instanceId } });
  await call('StopInstances', { InstanceIds: [instanceId] });
  await reaches('stopped');
  await call('StartInstances', { InstanceIds: [instanceId] });
  await reaches('running');
  await call('RebootInstances', { InstanceIds: [instanceId] });
  await call('DescribeInstances');
  await call('DescribeImages', { Owners: ['self'] });
  await call('DescribeSnapshots', { OwnerIds: ['self'] });
  await call('TerminateInstances', { InstanceIds: [instanceId] });
}

function report(): void {
  const missing: Record<string, string[]> = {};
  for (const [action, tally] of [...seen].sort(([a], [b]) => a.localeCompare(b))) {
    const never = [...tally].filter(([, present]) => !present).map(([path]) => path);
    if (never.length) missing[action] = never;
  }
  const notCalled = implementedEc2Actions().filter((a) => !seen.has(a));
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ missing, failures: Object.fromEntries(failures), notCalled }, null, 2));
    return;
  }
  for (const [action, paths] of Object.entries(missing)) console.log(`${action}: ${paths.join(', ')}`);
  if (failures.size) console.log(`\nfailed: ${[...failures].map(([a, m]) => `${a} (${m})`).join('; ')}`);
  console.log(`\nnot called (their input needs a resource the seed does not make): ${notCalled.join(', ')}`);
}

await main();
