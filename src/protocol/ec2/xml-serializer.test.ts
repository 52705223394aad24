// Round trip through the official parser: what serializeResponse / serializeError write is read
// back by the AWS SDK for JavaScript v3 (its own EC2 protocol parser, fed through a request
// handler that answers with our XML), and must come out equal to what went in.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import * as sdk from '@aws-sdk/client-ec2';
import { EC2Client, DescribeImagesCommand, type Image } from '@aws-sdk/client-ec2';
import { HttpResponse } from '@smithy/core/protocols';
import { ServiceError, Errors } from '../../domain/errors.ts';
import { ec2Model, type Shape } from './model.ts';
import { serializeError, serializeResponse } from './xml-serializer.ts';

const REQUEST_ID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

/** An EC2Client whose every request is answered with `status` and `xml`, without a network. */
function clientAnswering(status: number, xml: string): EC2Client {
  return new EC2Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => ({
        response: new HttpResponse({
          statusCode: status,
          headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': REQUEST_ID },
          body: Readable.from([Buffer.from(xml, 'utf8')]),
        }),
      }),
    },
  });
}

/** Inputs the SDK's own middleware needs (CopySnapshot presigns a URL unless given one). */
const INPUTS: Record<string, object> = { CopySnapshot: { PresignedUrl: 'https://example.invalid/', SourceRegion: 'us-west-2' } };

type CommandCtor = new (input: object) => Parameters<EC2Client['send']>[0];

async function parsedBySdk(action: string, xml: string): Promise<Record<string, unknown>> {
  const Command = (sdk as unknown as Record<string, CommandCtor>)[`${action}Command`];
  assert.ok(Command, `the SDK has no ${action}Command`);
  const out = (await clientAnswering(200, xml).send(new Command(INPUTS[action] ?? {}))) as unknown as Record<string, unknown>;
  const { $metadata, ...rest } = out;
  assert.equal(($metadata as { httpStatusCode: number }).httpStatusCode, 200);
  return rest;
}

/** Every member of every structure set, recursively: the fixture really is fully populated. */
function assertFullyPopulated(shapeName: string, value: unknown, path: string): void {
  const shape = ec2Model.shapes[shapeName];
  assert.notEqual(value, undefined, `${path} is not set`);
  if (shape.type === 'structure') {
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      assertFullyPopulated(ref.shape, (value as Record<string, unknown>)[name], `${path}.${name}`);
    }
  } else if (shape.type === 'list') {
    assert.ok((value as unknown[]).length > 0, `${path} is empty`);
    (value as unknown[]).forEach((v, i) => assertFullyPopulated(shape.member!.shape, v, `${path}[${i}]`));
  }
}

/**
 * The SDK's parser forgives a bare `&`; stricter ones (botocore's ElementTree) do not. Every `&`
 * must start one of XML's entities, and markup must only be our own tags.
 */
function assertStrictXmlText(xml: string): void {
  assert.doesNotMatch(xml, /&(?!(amp|lt|gt|quot|apos);)/, 'a bare & in the XML');
  const body = xml.replace(/^<\?xml[^>]*\?>\n/, '');
  for (const tag of body.match(/<[^>]*>/g) ?? []) assert.match(tag, /^<\/?[A-Za-z][\w.-]*( xmlns="[^"]*")?>$/, `unexpected markup ${tag}`);
}

const TEXT = ` <&> "quoted" 'single' ü € 𝄞`;

/**
 * A value of `shapeName` with every member set: lists of two distinct items, both booleans,
 * strings carrying XML metacharacters and non-ASCII text, enums cycling through their values.
 */
function generate(shapeName: string, seed: number, label: string): unknown {
  const shape: Shape = ec2Model.shapes[shapeName];
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      let i = 0;
      for (const [name, ref] of Object.entries(shape.members ?? {})) out[name] = generate(ref.shape, seed + i++, name);
      return out;
    }
    case 'list':
      return [generate(shape.member!.shape, seed, label), generate(shape.member!.shape, seed + 1, label)];
    case 'map':
      return { [`k${seed}`]: generate(shape.value!.shape, seed, label) };
    case 'string':
      return shape.enum ? shape.enum[seed % shape.enum.length] : `${label}-${seed}${TEXT}`;
    case 'integer':
    case 'long':
      return 100 + seed;
    case 'float':
    case 'double':
      return seed + 0.5;
    case 'boolean':
      return seed % 2 === 0;
    case 'timestamp':
      return new Date(Date.UTC(2024, 4, 6, 7, 8, seed % 60, 123));
    case 'blob':
      return new Uint8Array([seed % 256, 0, 255, 60, 38]);
  }
}

describe('serializeResponse, read back by the AWS SDK', () => {
  test('DescribeImages with a fully populated image', async () => {
    const image: Image = {
      ImageId: 'ami-0123456789abcdef0',
      ImageLocation: '111111111111/web <&> "server"',
      State: 'available',
      OwnerId: '111111111111',
      CreationDate: '2024-12-12T10:11:12.000Z',
      Public: false,
      ProductCodes: [{ ProductCodeId: 'abc123', ProductCodeType: 'marketplace' }, { ProductCodeId: 'def456', ProductCodeType: 'devpay' }],
      Architecture: 'arm64',
      ImageType: 'machine',
      KernelId: 'aki-12345678',
      RamdiskId: 'ari-12345678',
      // EC2 sends lower-case `windows`; the SDK's enum type says `Windows` but passes the text through.
      Platform: 'windows' as Image['Platform'],
      PlatformDetails: 'Windows',
      UsageOperation: 'RunInstances:0002',
      BlockDeviceMappings: [
        {
          DeviceName: '/dev/xvda',
          Ebs: {
            DeleteOnTermination: true, Iops: 3000, SnapshotId: 'snap-0123456789abcdef0', VolumeSize: 8, VolumeType: 'gp3',
            KmsKeyId: 'arn:aws:kms:us-east-1:111111111111:key/abcd', Throughput: 125, OutpostArn: 'arn:aws:outposts:us-east-1:111111111111:outpost/op-1',
            AvailabilityZone: 'us-east-1a', Encrypted: false, VolumeInitializationRate: 300, AvailabilityZoneId: 'use1-az1', EbsCardIndex: 0,
          },
        },
        { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' },
        { DeviceName: '/dev/sdc', NoDevice: '' },
      ],
      Description: 'Line one\nline two & <three>',
      EnaSupport: true,
      Hypervisor: 'xen',
      ImageOwnerAlias: 'amazon',
      Name: 'web-server [v1] (2024)',
      RootDeviceName: '/dev/xvda',
      RootDeviceType: 'ebs',
      SriovNetSupport: 'simple',
      StateReason: { Code: 'Client.Error', Message: 'something "odd"' },
      Tags: [{ Key: 'Name', Value: 'web' }, { Key: 'empty', Value: '' }, { Key: 'ünïcode', Value: '日本語' }],
      VirtualizationType: 'hvm',
      BootMode: 'uefi-preferred',
      TpmSupport: 'v2.0',
      DeprecationTime: '2030-01-01T00:00:00.000Z',
      ImdsSupport: 'v2.0',
      SourceInstanceId: 'i-0123456789abcdef0',
      DeregistrationProtection: 'enabled-with-cooldown',
      LastLaunchedTime: '2025-01-02T03:04:05Z',
      ImageAllowed: true,
      SourceImageId: 'ami-0fedcba9876543210',
      SourceImageRegion: 'eu-west-1',
      FreeTierEligible: false,
    };
    const xml = serializeResponse('DescribeImages', 'DescribeImagesResult', { Images: [image], NextToken: 'token/+=' }, REQUEST_ID);
    assertStrictXmlText(xml);
    const parsed = await parsedBySdk('DescribeImages', xml);
    assert.deepEqual(parsed, { Images: [image], NextToken: 'token/+=' });
  });

  test('empty lists, and members left unset, come back as such', async () => {
    const xml = serializeResponse('DescribeImages', 'DescribeImagesResult', { Images: [] }, REQUEST_ID);
    assert.deepEqual(await parsedBySdk('DescribeImages', xml), { Images: [] });
    const sparse = serializeResponse('DescribeImages', 'DescribeImagesResult', { Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [] }] }, REQUEST_ID);
    assert.deepEqual(await parsedBySdk('DescribeImages', sparse), { Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [] }] });
  });

  test('the response names the action, carries the request id and EC2\'s namespace', async () => {
    const xml = serializeResponse('DeregisterImage', 'DeregisterImageResult', { Return: true }, REQUEST_ID);
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<DeregisterImageResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/">/);
    assert.match(xml, new RegExp(`<requestId>${REQUEST_ID}</requestId>`));
    assert.match(xml, /<\/DeregisterImageResponse>$/);
    const out = await clientAnswering(200, xml).send(new sdk.DeregisterImageCommand({ ImageId: 'ami-0123456789abcdef0' }));
    assert.equal(out.Return, true);
    assert.equal(out.$metadata.requestId, REQUEST_ID);
  });

  // Every output in the wire table, generated fully populated (including timestamps of other
  // shapes: Snapshot.StartTime, Volume.CreateTime, KeyPairInfo.CreateTime, attachment times...).
  for (const [action, { output }] of Object.entries(ec2Model.operations).sort()) {
    if (!output) continue;
    test(`${action}: every member of ${output}`, async () => {
      const value = generate(output, 1, output) as Record<string, unknown>;
      assertFullyPopulated(output, value, output);
      const xml = serializeResponse(action, output, value, REQUEST_ID);
      assertStrictXmlText(xml);
      assert.deepEqual(await parsedBySdk(action, xml), value);
    });
  }
});

describe('serializeError, read back by the AWS SDK', () => {
  const cases: ServiceError[] = [
    Errors.amiNotFound('ami-0123456789abcdef0'),
    Errors.amiMalformed('ami-<&>"\''),
    Errors.dryRun(),
    Errors.authFailure(),
    Errors.signatureDoesNotMatch(),
    Errors.invalidAction('NoSuchThing'),
    Errors.unknownParameter('Colour'),
    Errors.internal(),
    new ServiceError('InvalidParameterValue', 400, 'Value (ü € 𝄞 \n) is invalid'),
  ];
  for (const err of cases) {
    test(`${err.code} (${err.status})`, async () => {
      const xml = serializeError(err, REQUEST_ID);
      assertStrictXmlText(xml);
      assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>/);
      let thrown: (Error & { $metadata?: { httpStatusCode?: number; requestId?: string }; $fault?: string }) | undefined;
      try {
        await clientAnswering(err.status, xml).send(new DescribeImagesCommand({}));
      } catch (e) {
        thrown = e as typeof thrown;
      }
      assert.ok(thrown, 'the SDK did not throw');
      assert.equal(thrown.name, err.code);
      assert.equal(thrown.message, err.message);
      assert.equal(thrown.$metadata?.httpStatusCode, err.status);
      assert.equal(thrown.$metadata?.requestId, REQUEST_ID);
      assert.equal(thrown.$fault, err.status >= 500 ? 'server' : 'client');
    });
  }
});

test('a frozen structure is written as an unfrozen one would be, each time it appears', () => {
  const image = { ImageId: 'ami-0123456789abcdef0', Name: 'a & b', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8 } }], Public: false };
  const plain = serializeResponse('DescribeImages', 'DescribeImagesResult', { Images: [image] }, REQUEST_ID);
  const frozen = Object.freeze({ ...image });
  const twice = serializeResponse('DescribeImages', 'DescribeImagesResult', { Images: [frozen, frozen] }, REQUEST_ID);
  const item = plain.slice(plain.indexOf('<item>'), plain.lastIndexOf('</imagesSet>'));
  assert.equal(twice, plain.replace(item, item + item));
  assert.equal(serializeResponse('DescribeImages', 'DescribeImagesResult', { Images: [frozen] }, REQUEST_ID), plain);
});
