import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { requestResources, requestTags, tagOnCreate } from './ec2-resources.ts';

const arns = (action: string, input: Record<string, unknown>) => requestResources(action, input, '111111111111', 'us-east-1').map((r) => r.arn);

describe('the resources an EC2 request acts on', () => {
  test('images and snapshots carry no account; instances, volumes and key pairs the caller\'s', () => {
    assert.deepEqual(arns('DeregisterImage', { ImageId: 'ami-1' }), ['arn:aws:ec2:us-east-1::image/ami-1']);
    assert.deepEqual(arns('DeleteSnapshot', { SnapshotId: 'snap-1' }), ['arn:aws:ec2:us-east-1::snapshot/snap-1']);
    assert.deepEqual(arns('TerminateInstances', { InstanceIds: ['i-1', 'i-2'] }),
      ['arn:aws:ec2:us-east-1:111111111111:instance/i-1', 'arn:aws:ec2:us-east-1:111111111111:instance/i-2']);
    assert.deepEqual(arns('DeleteKeyPair', { KeyName: 'deploy' }), ['arn:aws:ec2:us-east-1:111111111111:key-pair/deploy']);
  });
  test('security groups, VPCs and subnets carry the caller\'s account; CreateSecurityGroup makes security-group/*', () => {
    const sg = 'arn:aws:ec2:us-east-1:111111111111:security-group';
    assert.deepEqual(arns('AuthorizeSecurityGroupIngress', { GroupId: 'sg-1', IpPermissions: [] }), [`${sg}/sg-1`]);
    assert.deepEqual(arns('DeleteSecurityGroup', { GroupId: 'sg-1' }), [`${sg}/sg-1`]);
    assert.deepEqual(arns('DeleteSecurityGroup', { GroupName: 'web' }), ['*'], 'a group named only by name is matched against *');
    assert.deepEqual(arns('CreateSecurityGroup', { GroupName: 'web', VpcId: 'vpc-1' }), ['arn:aws:ec2:us-east-1:111111111111:vpc/vpc-1', `${sg}/*`]);
    assert.deepEqual(arns('ModifyInstanceAttribute', { InstanceId: 'i-1', Groups: ['sg-2'] }), ['arn:aws:ec2:us-east-1:111111111111:instance/i-1', `${sg}/sg-2`]);
    assert.ok(arns('RunInstances', { ImageId: 'ami-1', SubnetId: 'subnet-1', SecurityGroupIds: ['sg-1'] }).includes('arn:aws:ec2:us-east-1:111111111111:subnet/subnet-1'));
    assert.deepEqual(arns('CreateTags', { Resources: ['sg-0123456789abcdef0'] }), [`${sg}/sg-0123456789abcdef0`]);
  });
  test('Describe* actions are evaluated on *, whatever ids they name', () => {
    assert.deepEqual(arns('DescribeImages', { ImageIds: ['ami-1'] }), ['*']);
    assert.deepEqual(arns('DescribeImageAttribute', { ImageId: 'ami-1', Attribute: 'description' }), ['*']);
  });
  test('create actions add what they make as type/*', () => {
    assert.deepEqual(arns('RunInstances', { ImageId: 'ami-1', KeyName: 'k' }), [
      'arn:aws:ec2:us-east-1::image/ami-1', 'arn:aws:ec2:us-east-1:111111111111:key-pair/k',
      'arn:aws:ec2:us-east-1:111111111111:instance/*', 'arn:aws:ec2:us-east-1:111111111111:volume/*',
    ]);
    assert.deepEqual(arns('CreateImage', { InstanceId: 'i-1' }), [
      'arn:aws:ec2:us-east-1:111111111111:instance/i-1', 'arn:aws:ec2:us-east-1::image/*', 'arn:aws:ec2:us-east-1::snapshot/*',
    ]);
    assert.deepEqual(arns('RegisterImage', { Name: 'x' }), ['arn:aws:ec2:us-east-1::image/*']);
    assert.deepEqual(arns('CopyImage', { SourceImageId: 'ami-1', SourceRegion: 'eu-west-1' }), [
      'arn:aws:ec2:eu-west-1::image/ami-1', 'arn:aws:ec2:us-east-1::image/*', 'arn:aws:ec2:us-east-1::snapshot/*',
    ]);
  });
  test('snapshots named in BlockDeviceMappings are resources, once each', () => {
    const BlockDeviceMappings = [
      { DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-1' } }, { DeviceName: '/dev/xvdb', Ebs: { SnapshotId: 'snap-2' } },
      { DeviceName: '/dev/xvdc', Ebs: { SnapshotId: 'snap-1' } }, { DeviceName: '/dev/xvdd', Ebs: { VolumeSize: 1 } }, { DeviceName: '/dev/xvde', NoDevice: '' },
    ];
    assert.deepEqual(arns('RegisterImage', { Name: 'x', BlockDeviceMappings }), [
      'arn:aws:ec2:us-east-1::snapshot/snap-1', 'arn:aws:ec2:us-east-1::snapshot/snap-2', 'arn:aws:ec2:us-east-1::image/*',
    ]);
    assert.deepEqual(arns('RunInstances', { ImageId: 'ami-1', BlockDeviceMappings: BlockDeviceMappings.slice(1, 2) }), [
      'arn:aws:ec2:us-east-1::image/ami-1', 'arn:aws:ec2:us-east-1::snapshot/snap-2',
      'arn:aws:ec2:us-east-1:111111111111:instance/*', 'arn:aws:ec2:us-east-1:111111111111:volume/*',
    ]);
  });
  test('a source in another region is named in that region', () => {
    const [source] = requestResources('CopySnapshot', { SourceSnapshotId: 'snap-1', SourceRegion: 'eu-west-1' }, '111111111111', 'us-east-1');
    assert.equal(source.arn, 'arn:aws:ec2:eu-west-1::snapshot/snap-1');
    assert.equal(source.region, 'eu-west-1');
  });
  test('CreateTags acts on each resource by its id prefix; actions naming nothing are on *', () => {
    assert.deepEqual(arns('CreateTags', { Resources: ['ami-0123456789abcdef0', 'vol-0123456789abcdef0', 'nonsense'], Tags: [] }),
      ['arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0', 'arn:aws:ec2:us-east-1:111111111111:volume/vol-0123456789abcdef0']);
    assert.deepEqual(arns('EnableEbsEncryptionByDefault', {}), ['*']);
  });
  test('request tags come from TagSpecifications and Tags', () => {
    assert.deepEqual(requestTags({ TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'a', Value: '1' }] }], Tags: [{ Key: 'b', Value: '2' }] }),
      [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);
  });
});

describe('tag-on-create', () => {
  test('each TagSpecification with tags is a CreateTags on what is created', () => {
    const checks = tagOnCreate('RunInstances', {
      TagSpecifications: [
        { ResourceType: 'instance', Tags: [{ Key: 'a', Value: '1' }] },
        { ResourceType: 'volume', Tags: [] },
        { ResourceType: 'image', Tags: [{ Key: 'b', Value: '2' }] },
      ],
    }, '111111111111', 'us-east-1');
    assert.deepEqual(checks.map((c) => c.target.arn), ['arn:aws:ec2:us-east-1:111111111111:instance/*', 'arn:aws:ec2:us-east-1::image/*']);
    assert.deepEqual(checks[0].tags, [{ Key: 'a', Value: '1' }]);
    assert.deepEqual(tagOnCreate('CreateKeyPair', { KeyName: 'k', TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'a' }] }] }, '1', 'r')
      .map((c) => c.target.arn), ['arn:aws:ec2:r:1:key-pair/k']);
  });
});
