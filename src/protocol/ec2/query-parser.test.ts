// Unit tests for the EC2 Query parser: form fields in, the operation's input object (or AWS's
// client error) out, guided by the generated shape table.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '../../domain/errors.ts';
import { parseQueryInput } from './query-parser.ts';

const parse = (inputShape: string, fields: Record<string, string> | [string, string][]) =>
  parseQueryInput(inputShape, Array.isArray(fields) ? fields : Object.entries(fields));

function rejects(inputShape: string, fields: Record<string, string>, code: string, message?: string | RegExp): void {
  assert.throws(() => parse(inputShape, fields), (err: unknown) => {
    assert.ok(err instanceof ServiceError, `expected a ServiceError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.status, 400);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });
}

describe('EC2 Query parser', () => {
  test('envelope fields (Action, Version, SigV4 query auth) are not input members', () => {
    assert.deepEqual(parse('DescribeImagesRequest', {
      'Action': 'DescribeImages', 'Version': '2016-11-15', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Signature': 'abc',
    }), {});
  });

  test('flattened lists: Name.N, ordered by index whatever the field order', () => {
    assert.deepEqual(parse('DescribeImagesRequest', [['ImageId.2', 'ami-2'], ['ImageId.1', 'ami-1'], ['ImageId.10', 'ami-10'], ['Owner.1', 'self']]),
      { ImageIds: ['ami-1', 'ami-2', 'ami-10'], Owners: ['self'] });
    assert.deepEqual(parse('DescribeImagesRequest', { 'ExecutableBy.1': 'all', 'ExecutableBy.2': '123456789012' }),
      { ExecutableUsers: ['all', '123456789012'] });
    // Without an index, one value is a one-element list.
    assert.deepEqual(parse('DescribeImagesRequest', { ImageId: 'ami-1' }), { ImageIds: ['ami-1'] });
  });

  test('list indexes start at 1 and are numbers', () => {
    rejects('DescribeImagesRequest', { 'ImageId.0': 'ami-1' }, 'UnknownParameter', 'The parameter ImageId.0 is not recognized');
    rejects('DescribeImagesRequest', { 'ImageId.x': 'ami-1' }, 'UnknownParameter');
    rejects('DescribeImagesRequest', { 'ImageId.01': 'ami-1' }, 'UnknownParameter');
  });

  test('nested lists of structures: Filter.N.Name and Filter.N.Value.M', () => {
    assert.deepEqual(parse('DescribeImagesRequest', {
      'Filter.1.Name': 'name', 'Filter.1.Value.1': 'web-*', 'Filter.1.Value.2': 'db-?',
      'Filter.2.Name': 'tag:env', 'Filter.2.Value.1': 'prod',
    }), { Filters: [{ Name: 'name', Values: ['web-*', 'db-?'] }, { Name: 'tag:env', Values: ['prod'] }] });
  });

  test('nested structures: BlockDeviceMapping.N.Ebs.*, with integers and booleans typed', () => {
    assert.deepEqual(parse('RegisterImageRequest', {
      'Name': 'img', 'RootDeviceName': '/dev/xvda', 'EnaSupport': 'true',
      'BlockDeviceMapping.1.DeviceName': '/dev/xvda',
      'BlockDeviceMapping.1.Ebs.SnapshotId': 'snap-0123456789abcdef0',
      'BlockDeviceMapping.1.Ebs.VolumeSize': '16',
      'BlockDeviceMapping.1.Ebs.DeleteOnTermination': 'false',
      'BlockDeviceMapping.1.Ebs.Iops': '3000',
      'BlockDeviceMapping.2.DeviceName': '/dev/sdb',
      'BlockDeviceMapping.2.VirtualName': 'ephemeral0',
      'TagSpecification.1.ResourceType': 'image',
      'TagSpecification.1.Tag.1.Key': 'k',
      'TagSpecification.1.Tag.1.Value': '',
    }), {
      Name: 'img', RootDeviceName: '/dev/xvda', EnaSupport: true,
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-0123456789abcdef0', VolumeSize: 16, DeleteOnTermination: false, Iops: 3000 } },
        { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' },
      ],
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'k', Value: '' }] }],
    });
  });

  test('both forms of ModifyImageAttribute\'s launch permissions', () => {
    assert.deepEqual(parse('ModifyImageAttributeRequest', {
      'ImageId': 'ami-1', 'LaunchPermission.Add.1.UserId': '111111111111', 'LaunchPermission.Add.2.Group': 'all',
      'LaunchPermission.Remove.1.OrganizationArn': 'arn:aws:organizations::1:organization/o-1',
    }), {
      ImageId: 'ami-1',
      LaunchPermission: { Add: [{ UserId: '111111111111' }, { Group: 'all' }], Remove: [{ OrganizationArn: 'arn:aws:organizations::1:organization/o-1' }] },
    });
    assert.deepEqual(parse('ModifyImageAttributeRequest', {
      'ImageId': 'ami-1', 'Attribute': 'launchPermission', 'OperationType': 'add', 'UserId.1': '111111111111', 'UserGroup.1': 'all',
    }), { ImageId: 'ami-1', Attribute: 'launchPermission', OperationType: 'add', UserIds: ['111111111111'], UserGroups: ['all'] });
    assert.deepEqual(parse('ModifyImageAttributeRequest', { 'ImageId': 'ami-1', 'Description.Value': 'new' }),
      { ImageId: 'ami-1', Description: { Value: 'new' } });
  });

  test('booleans: true and false, in any case', () => {
    assert.deepEqual(parse('DescribeImagesRequest', { DryRun: 'true', IncludeDeprecated: 'FALSE', IncludeDisabled: 'True' }),
      { DryRun: true, IncludeDeprecated: false, IncludeDisabled: true });
    rejects('DescribeImagesRequest', { DryRun: 'yes' }, 'InvalidParameterValue', /DryRun/);
    rejects('DescribeImagesRequest', { DryRun: '' }, 'InvalidParameterValue');
  });

  test('integers: decimal whole numbers within 32 bits', () => {
    assert.deepEqual(parse('DescribeImagesRequest', { MaxResults: '50' }), { MaxResults: 50 });
    assert.deepEqual(parse('DescribeImagesRequest', { MaxResults: '-1' }), { MaxResults: -1 });
    assert.deepEqual(parse('DescribeImagesRequest', { MaxResults: '2147483647' }), { MaxResults: 2147483647 });
    for (const bad of ['ten', '1.5', '1e3', '', '0x10', '2147483648', '-2147483649', '99999999999999999999']) {
      rejects('DescribeImagesRequest', { MaxResults: bad }, 'InvalidParameterValue', `Value (${bad}) for parameter MaxResults is invalid.`);
    }
  });

  test('timestamps: ISO 8601 or epoch seconds', () => {
    assert.deepEqual(parse('EnableImageDeprecationRequest', { ImageId: 'ami-1', DeprecateAt: '2030-01-02T03:04:05Z' }),
      { ImageId: 'ami-1', DeprecateAt: new Date('2030-01-02T03:04:05Z') });
    assert.deepEqual(parse('EnableImageDeprecationRequest', { ImageId: 'ami-1', DeprecateAt: '2030-01-02T03:04:05.678Z' }),
      { ImageId: 'ami-1', DeprecateAt: new Date('2030-01-02T03:04:05.678Z') });
    assert.deepEqual(parse('EnableImageDeprecationRequest', { ImageId: 'ami-1', DeprecateAt: '1893456000' }),
      { ImageId: 'ami-1', DeprecateAt: new Date('2030-01-01T00:00:00Z') });
    rejects('EnableImageDeprecationRequest', { ImageId: 'ami-1', DeprecateAt: 'next tuesday' }, 'InvalidParameterValue', /DeprecateAt/);
  });

  test('enums: a value outside the model\'s list is InvalidParameterValue listing the valid ones', () => {
    rejects('RegisterImageRequest', { Name: 'img', Architecture: 'sparc' }, 'InvalidParameterValue', /sparc.*Valid values: .*x86_64/);
    assert.deepEqual(parse('RegisterImageRequest', { Name: 'img', Architecture: 'arm64' }), { Name: 'img', Architecture: 'arm64' });
  });

  test('unknown parameters are UnknownParameter, at any depth', () => {
    rejects('DescribeImagesRequest', { Colour: 'blue' }, 'UnknownParameter', 'The parameter Colour is not recognized');
    rejects('RegisterImageRequest', { 'Name': 'img', 'BlockDeviceMapping.1.Ebs.Colour': 'blue' }, 'UnknownParameter',
      'The parameter BlockDeviceMapping.1.Ebs.Colour is not recognized');
    rejects('DescribeImagesRequest', { 'Filter.1.Name': 'name', 'Filter.1.Values.1': 'x' }, 'UnknownParameter', /Filter\.1\.Values/);
    // The SDKs' member names are not wire names.
    rejects('DescribeImagesRequest', { 'Filters.1.Name': 'name' }, 'UnknownParameter', /Filters/);
    rejects('DescribeImagesRequest', { 'ImageIds.1': 'ami-1' }, 'UnknownParameter', /ImageIds/);
    rejects('CreateTagsRequest', { 'Resources.1': 'ami-1', 'Tag.1.Key': 'k' }, 'UnknownParameter', /Resources/);
  });

  test('a capitalized locationName is also accepted with its first letter in lower case', () => {
    assert.deepEqual(parse('DescribeImagesRequest', { dryRun: 'true' }), { DryRun: true });
    assert.deepEqual(parse('DeleteTagsRequest', { 'resourceId.1': 'ami-1', 'tag.1.Key': 'k' }), { Resources: ['ami-1'], Tags: [{ Key: 'k' }] });
    assert.deepEqual(parse('DeleteTagsRequest', { 'ResourceId.1': 'ami-1' }), { Resources: ['ami-1'] });
  });

  test('missing required members are MissingParameter naming them', () => {
    rejects('RegisterImageRequest', { Description: 'no name' }, 'MissingParameter', 'The request must contain the parameter Name');
    rejects('CreateTagsRequest', { 'Tag.1.Key': 'k' }, 'MissingParameter', 'The request must contain the parameter ResourceId');
    rejects('EnableImageDeprecationRequest', { ImageId: 'ami-1' }, 'MissingParameter', /DeprecateAt/);
  });

  test('a value where a structure belongs, or a structure where a value belongs, is invalid', () => {
    rejects('DescribeImagesRequest', { 'Filter.1': 'name' }, 'InvalidParameterValue');
    rejects('DescribeImagesRequest', { 'MaxResults.1': '5' }, 'InvalidParameterValue');
  });

  test('an operation without input accepts only the envelope', () => {
    assert.deepEqual(parseQueryInput(null, [['Action', 'X'], ['Version', '2016-11-15']]), {});
  });
});
