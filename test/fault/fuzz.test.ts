// Fuzz: thousands of garbled EC2 Query requests against one dev-mode server, over raw TCP so that
// anything can be sent: real, unknown and empty actions; mutated parameter names (`Filter.0.Name`,
// `ImageId.-1`, deep dotted names); wrong types, huge, unicode, NUL and invalid UTF-8 values;
// duplicate keys; percent-encoding garbage; odd content types, bodies, methods and paths; and
// missing or garbled SigV4 (dev mode checks the Authorization header's shape, not the signature).
//
// Every answer must be a 4xx in EC2's error envelope (or, for a read-only request that happens
// to be valid, a 200 EC2 response) with a request id and no stack trace: never a 5xx, never a
// hang. Requests that could change something are always made to fail validation (see poison()),
// and afterwards the store must be exactly as it was, the server up, and its log free of errors.
//
// Fields are drawn per action for the image actions, CopyImage, ancestry, governance, Allowed
// AMIs, the Recycle Bin's EC2 side and the network (VPCs, subnets, security groups and their
// rules), against a fixture holding a disabled image, a copy, an image and a snapshot in the
// Recycle Bin, and security groups of two accounts: an answer never names another account's
// group unless the request did.
//
// A corpus of requests that broke the server before goes first (negative indexes). Each random
// request is generated from (seed, index) alone, so a failure reproduces with
// FUZZ_SEED=<seed> (printed) and, for one request, FUZZ_ONLY=<index>. FUZZ_COUNT sets how many,
// FUZZ_TIME_BUDGET_MS how long to keep sending (50 s by default; longer runs find more).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  CopyImageCommand, CreateTagsCommand, DeleteSnapshotCommand, DeregisterImageCommand, DescribeImageAttributeCommand, DescribeImagesCommand,
  DescribeTagsCommand, DisableImageCommand, ModifyImageAttributeCommand, RegisterImageCommand, waitUntilImageAvailable, type EC2Client,
  AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand, DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import { CreateRuleCommand, RbinClient } from '@aws-sdk/client-rbin';
import { CompleteSnapshotCommand, EBSClient, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { SignatureV4 } from '@smithy/signature-v4';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { NodeSha256 } from '../support/sdk.ts';
import {
  chance, FUZZ_SEED as SEED, fuzzCount, int, MAIN, pick, requestRng, SECOND, sendRaw, statusSummary, tableDigests, THIRD, type RawAnswer, type Rng,
} from '../support/fuzz-raw-http.ts';
import { knownEc2Actions } from '../../src/protocol/ec2/model.ts';

const COUNT = fuzzCount(4000);
const ONLY = process.env.FUZZ_ONLY === undefined ? undefined : Number(process.env.FUZZ_ONLY);
const MIN_REQUESTS = 3000;
const CONCURRENCY = 16;
/**
 * Fuzzing stops sending new requests after this long, whatever COUNT says, once MIN_REQUESTS
 * have been sent (a quiet 2-core machine sends COUNT in about 20 s). On a machine so loaded that
 * MIN_REQUESTS take longer, it goes on up to HARD_LIMIT_MS rather than fail for want of time.
 */
const TIME_BUDGET_MS = Number(process.env.FUZZ_TIME_BUDGET_MS ?? 50_000);
const HARD_LIMIT_MS = Math.max(TIME_BUDGET_MS, 150_000);
const REQUEST_TIMEOUT_MS = 15_000;

const CATALOG_IMAGE = 'ami-0dd4dbe59a8675ce3'; // amazon's, public, in us-east-1
const MISSING_IMAGE = 'ami-00000000000000000';

// ---------------------------------------------------------------------------------------------
// What the fuzzer knows about the server's state, made in before().

interface Fixture {
  port: number;
  snapshot: string;
  ownImages: string[]; // MAIN's: private, shared with SECOND, public
  secondImage: string; // SECOND's, private
  /** MAIN's: one disabled, one copied from the public image, one in the Recycle Bin (shared with SECOND before). */
  governedImages: string[];
  binnedSnapshot: string; // MAIN's, in the Recycle Bin
  /** Security groups by owner: MAIN's `fuzz-web` (with an SSH rule) and default, SECOND's `fuzz-second` and default. */
  groups: { id: string; owner: string }[];
  mainRule: string; // the SSH rule of MAIN's fuzz-web
  subnet: string; // MAIN's default subnet in us-east-1a
}
let fx: Fixture;

/** Actions that cannot change anything; every other action value gets poison(). */
const READ_ONLY = new Set([
  'DescribeImages', 'DescribeImageAttribute', 'DescribeTags', 'DescribeRegions', 'DescribeAvailabilityZones',
  'DescribeSnapshots', 'DescribeSnapshotAttribute', 'GetImageAncestry', 'ListImagesInRecycleBin', 'ListSnapshotsInRecycleBin',
  'GetAllowedImagesSettings', 'GetImageBlockPublicAccessState', 'GetSnapshotBlockPublicAccessState',
  'DescribeVpcs', 'DescribeSubnets', 'DescribeAccountAttributes', 'DescribeSecurityGroups', 'DescribeSecurityGroupRules',
]);
const NETWORK_ACTIONS = ['DescribeVpcs', 'DescribeSubnets', 'DescribeAccountAttributes', 'CreateSecurityGroup', 'DeleteSecurityGroup',
  'DescribeSecurityGroups', 'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress',
  'RevokeSecurityGroupEgress', 'DescribeSecurityGroupRules', 'ModifySecurityGroupRules'];
const IMPLEMENTED = ['RegisterImage', 'DescribeImages', 'DeregisterImage', 'DescribeImageAttribute', 'ModifyImageAttribute',
  'ResetImageAttribute', 'CreateTags', 'DeleteTags', 'DescribeTags', 'DescribeRegions', 'DescribeAvailabilityZones',
  // Copying, ancestry, governance, Allowed AMIs and the Recycle Bin's EC2 side.
  'CopyImage', 'GetImageAncestry', 'DisableImage', 'EnableImage', 'EnableImageDeprecation', 'DisableImageDeprecation',
  'EnableImageDeregistrationProtection', 'DisableImageDeregistrationProtection', 'CancelImageLaunchPermission',
  'EnableImageBlockPublicAccess', 'DisableImageBlockPublicAccess', 'GetImageBlockPublicAccessState', 'EnableSnapshotBlockPublicAccess',
  'DisableSnapshotBlockPublicAccess', 'GetSnapshotBlockPublicAccessState', 'EnableAllowedImagesSettings', 'DisableAllowedImagesSettings',
  'GetAllowedImagesSettings', 'ReplaceImageCriteriaInAllowedImagesSettings', 'ListImagesInRecycleBin', 'ListSnapshotsInRecycleBin',
  'RestoreImageFromRecycleBin', 'RestoreSnapshotFromRecycleBin', ...NETWORK_ACTIONS];
const OTHER_REAL = [...knownEc2Actions].filter((a) => !IMPLEMENTED.includes(a));
const UNKNOWN_ACTIONS = ['Foo', 'describeimages', 'DESCRIBEIMAGES', 'DescribeImages ', ' DescribeImages', 'DescribeImage',
  'DescribeImagesX', 'Describe.Images', 'DescribeImages\u0000', 'Regíster', 'Δ', '💥', 'A'.repeat(5000), '../../etc/passwd',
  '<Action/>', 'Action', '%', '*', 'null', 'undefined', 'constructor', '__proto__', 'toString', 'hasOwnProperty'];

const BAD_NAMES = ['x', 'ab', 'bad!name', 'a'.repeat(129), 'näme-ü', 'tab\there', 'semi;colon', '', ' ', 'nul\u0000name', '#hash'];
const IMAGE_IDS = (): string[] => [...fx.ownImages, ...fx.governedImages, fx.secondImage, CATALOG_IMAGE, MISSING_IMAGE,
  'ami-bad', 'ami-', 'AMI-0123456789abcdef0', 'ami-0123456789abcdef', 'ami-0123456789ABCDEF0', 'snap-0123456789abcdef0', '',
  'ami-12345678', 'ami-0123456789abcdef0 ', 'ami-0123456789abcdef0\u0000'];
const SNAPSHOT_IDS = (): string[] => [fx.snapshot, fx.binnedSnapshot, 'snap-00000000000000000', 'snap-bad', 'ami-0123456789abcdef0', '',
  'SNAP-0123456789ABCDEF0', 'snap-0123456789abcdef0\u0000'];
const MISSING_GROUP = 'sg-00000000000000000';
const GROUP_IDS = (): string[] => [...fx.groups.map((g) => g.id), MISSING_GROUP, 'sg-bad', 'sg-', 'SG-0123456789ABCDEF0', '', 'sgr-0123456789abcdef0',
  'sg-12345678', `${fx.groups[0].id}\u0000`];
const GROUP_NAMES = ['fuzz-web', 'fuzz-second', 'default', '', 'sg-named', 'ünïcode', 'n'.repeat(256), 'new-group', ' '];
const RULE_IDS = (): string[] => [fx.mainRule, 'sgr-00000000000000000', 'sgr-bad', 'sg-0123456789abcdef0', ''];
const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', '-1', 'all', '6', '17', '1', '58', '47', '256', '-2', 'TCP', 'x', ''];
const PORTS = ['22', '0', '65535', '65536', '-1', '-2', '8', 'x', '1e3', '4294967296', ''];
const CIDRS = ['0.0.0.0/0', '10.0.0.0/8', '127.0.0.1/32', '10.0.0.1/8', '300.1.1.1/32', '1.2.3.4', '1.2.3.4/33', '01.2.3.0/24', '::/0',
  '2001:db8::/32', 'fe80::1/10', '::/129', 'x', ''];
const SG_FILTERS = ['group-id', 'group-name', 'description', 'owner-id', 'vpc-id', 'tag:team', 'tag-key', 'ip-permission.cidr',
  'ip-permission.from-port', 'ip-permission.protocol', 'ip-permission.group-id', 'ip-permission.group-name', 'egress.ip-permission.cidr',
  'egress.ip-permission.to-port', 'ip-permission.user-id', 'colour', '', 'constructor'];

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'mars-north-1', '', 'US-EAST-1', 'us-east-1 ', 'a'.repeat(300)];
const DATES = ['2030-01-01T00:00:00Z', '2020-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0000-00-00', '1700000000', '2030-01-01', 'x', ''];
const NOT_OWNED = [MISSING_IMAGE, CATALOG_IMAGE, 'ami-bad', 'ami-12345678'];
const ACCOUNTS = [MAIN, SECOND, THIRD, 'AKIANONNUMERIC000001', 'self', 'all', '12345', 'amazon', '0000000000000', ''];
const IMAGE_FILTERS = ['name', 'image-id', 'owner-id', 'owner-alias', 'is-public', 'state', 'architecture', 'description',
  'tag:team', 'tag:env', 'tag-key', 'tag-value', 'tag:', 'block-device-mapping.volume-size', 'block-device-mapping.snapshot-id',
  'creation-date', 'platform', 'root-device-type', 'virtualization-type', 'colour', '', 'NAME', 'tag:😀'];
const PATTERNS = ['*', '?', '', 'fuzz-*', 'al2023-*', '*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', `${'*a'.repeat(300)}*Z`,
  `${'*'.repeat(3000)}x`, '?'.repeat(400), '\\*', '\\', '[a-z]*', 'true', 'false', '8', 'available', 'x86_64', '%', '😀*',
  '\u0000', 'a'.repeat(300)];

// Values that break types, lengths and encodings; generated lazily (some are large).
const VALUES: (() => string)[] = [
  () => '', () => ' ', () => 'abc', () => '-1', () => '0', () => '1', () => '1e309', () => '9'.repeat(400), () => '0x10',
  () => 'true', () => 'TRUE', () => 'yes', () => 'NaN', () => 'null', () => '1.5', () => '-0', () => '+5', () => ' 7 ',
  () => '2024-13-45T99:99:99Z', () => '1700000000', () => 'ünïcödé', () => '日本語', () => '😀'.repeat(50), () => '\u202e\u200f',
  () => 'nul\u0000byte', () => '\u0000', () => '\uFFFF\uFFFE', () => '\uD800', () => '\uDFFF\uD800', () => '<tag>&amp;</tag>', () => ']]>',
  () => '"\'`', () => '\\', () => '%', () => '%%', () => '${jndi:ldap://x}', () => '../../../../etc/passwd', () => '\r\n\r\n',
  () => 'a'.repeat(70_000), () => 'b'.repeat(300), () => 'ami-0123456789abcdef0', () => 'snap-0123456789abcdef0',
  () => 'arn:aws:organizations::111122223333:organization/o-abcdefghij', () => 'launchPermission', () => 'description', () => 'all',
];
const NAME_POOL = ['Filter.0.Name', 'Filter.1.Value.99999999', 'Filter.1.Value.0', 'Filter.-1.Name', 'ImageId.-1', 'ImageId.0',
  'ImageId.1000000', 'ImageId.01', 'ImageId.1.2', 'ImageId.a', 'ImageId..1', 'ImageId.', '.ImageId', 'ImageId',
  'BlockDeviceMapping.1.Ebs.VolumeSize', 'BlockDeviceMapping.1.Ebs', 'BlockDeviceMapping.1.Ebs.Iops', 'BlockDeviceMapping',
  'BlockDeviceMapping.1', 'BlockDeviceMapping.1.Ebs.Encrypted', 'LaunchPermission', 'LaunchPermission.Add', 'LaunchPermission.Add.1',
  'LaunchPermission.Add.1.Group', 'LaunchPermission.Remove.1.UserId', 'Description', 'Description.Value', 'Description.Value.Value',
  'TagSpecification.1.Tag.1.Key', 'TagSpecification.1.ResourceType', 'Tag.1.Key', 'Tag.1.Value', 'ResourceId.1', 'MaxResults',
  'NextToken', 'DryRun', 'Owner.1', 'ExecutableBy.1', 'Attribute', 'OperationType', 'UserId.1', 'UserGroup.1', 'Version',
  'X-Amz-Date', 'X-Amz-Algorithm', 'Signature', 'AWSAccessKeyId', 'imageId', 'IMAGEID', 'Name', 'Name.1', '', '=', '.', '..',
  '__proto__', 'constructor', 'Filter.__proto__.Name', 'Filter.1.__proto__', 'toString', 'ÄÖÜ', '😀', 'Filter\u0000.1.Name',
  'a'.repeat(5000), 'IncludeDeprecated', 'IncludeDisabled', 'AllRegions', 'RegionName.1', 'ZoneName.1', 'ImdsSupport.Value'];

// ---------------------------------------------------------------------------------------------
// Request generation: logical form fields first, then garbling, then the wire.

type Pairs = [string, string][];

function filters(r: Rng, names: string[], p: Pairs): void {
  const n = int(r, 1, 3);
  for (let i = 1; i <= n; i++) {
    p.push([`Filter.${i}.Name`, pick(r, names)]);
    const values = chance(r, 0.05) ? int(r, 150, 260) : int(r, 0, 3);
    for (let j = 1; j <= values; j++) p.push([`Filter.${i}.Value.${j}`, pick(r, PATTERNS)]);
  }
}

function baseFields(action: string, r: Rng): Pairs {
  const p: Pairs = [];
  const image = () => pick(r, IMAGE_IDS());
  switch (action) {
    case 'RegisterImage': {
      p.push(['Name', chance(r, 0.6) ? `fuzz-${int(r, 0, 1e6)}` : pick(r, BAD_NAMES)]);
      if (chance(r, 0.8)) p.push(['RootDeviceName', pick(r, ['/dev/xvda', '/dev/sda1', 'xvda', ''])]);
      for (let i = 1, n = int(r, 0, 3); i <= n; i++) {
        const m = `BlockDeviceMapping.${i}`;
        p.push([`${m}.DeviceName`, pick(r, ['/dev/xvda', '/dev/sdb', '/dev/sdb', ''])]);
        const kind = int(r, 0, 2);
        if (kind === 0) {
          if (chance(r, 0.8)) p.push([`${m}.Ebs.SnapshotId`, pick(r, [fx.snapshot, 'snap-00000000000000000', 'snap-bad', ''])]);
          if (chance(r, 0.5)) p.push([`${m}.Ebs.VolumeSize`, pick(r, ['8', '16', '0', '65537', 'abc', '-1', '1e3'])]);
          if (chance(r, 0.3)) p.push([`${m}.Ebs.VolumeType`, pick(r, ['gp2', 'gp3', 'io1', 'io2', 'standard', 'xx'])]);
          if (chance(r, 0.2)) p.push([`${m}.Ebs.Iops`, pick(r, ['3000', '-5', 'x'])]);
          if (chance(r, 0.2)) p.push([`${m}.Ebs.Encrypted`, pick(r, ['true', 'false', 'maybe'])]);
          if (chance(r, 0.2)) p.push([`${m}.Ebs.DeleteOnTermination`, pick(r, ['true', 'false', '1'])]);
        } else if (kind === 1) {
          p.push([`${m}.VirtualName`, pick(r, ['ephemeral0', 'ephemeral23', 'ephemeral24', 'x'])]);
        } else {
          p.push([`${m}.NoDevice`, '']);
        }
      }
      if (chance(r, 0.4)) p.push(['Architecture', pick(r, ['x86_64', 'arm64', 'i386', 'sparc'])]);
      if (chance(r, 0.3)) p.push(['VirtualizationType', pick(r, ['hvm', 'paravirtual', 'vm'])]);
      if (chance(r, 0.3)) p.push(['Description', pick(r, VALUES)()]);
      if (chance(r, 0.2)) p.push(['ImageLocation', pick(r, ['bucket/image.manifest.xml', ''])]);
      if (chance(r, 0.2)) p.push(['BootMode', pick(r, ['uefi', 'legacy-bios', 'uefi-preferred', 'bios'])]);
      if (chance(r, 0.2)) p.push(['EnaSupport', pick(r, ['true', 'false', 'x'])]);
      if (chance(r, 0.3)) {
        p.push(['TagSpecification.1.ResourceType', pick(r, ['image', 'snapshot', 'instance', 'bogus'])]);
        p.push(['TagSpecification.1.Tag.1.Key', pick(r, ['team', 'aws:x', '', 'k'.repeat(200)])]);
        p.push(['TagSpecification.1.Tag.1.Value', pick(r, VALUES)()]);
      }
      break;
    }
    case 'DescribeImages':
      for (let i = 1, n = chance(r, 0.3) ? int(r, 1, 4) : 0; i <= n; i++) p.push([`ImageId.${i}`, image()]);
      for (let i = 1, n = chance(r, 0.4) ? int(r, 1, 3) : 0; i <= n; i++) p.push([`Owner.${i}`, pick(r, ACCOUNTS)]);
      for (let i = 1, n = chance(r, 0.3) ? int(r, 1, 2) : 0; i <= n; i++) p.push([`ExecutableBy.${i}`, pick(r, ACCOUNTS)]);
      if (chance(r, 0.5)) filters(r, IMAGE_FILTERS, p);
      if (chance(r, 0.3)) p.push(['MaxResults', pick(r, ['1', '5', '1000', '1001', '0', '-1', 'abc', '2147483648'])]);
      if (chance(r, 0.2)) {
        p.push(['NextToken', pick(r, ['', 'garbage', 'eyJrIjoiYW1pLTAifQ', 'eyJrIjoxfQ', Buffer.from('{"k":"\u0000"}').toString('base64url'),
          Buffer.from('not json').toString('base64url'), '%%%', 'a'.repeat(10_000)])]);
      }
      if (chance(r, 0.2)) p.push([pick(r, ['IncludeDeprecated', 'IncludeDisabled']), pick(r, ['true', 'false', 'x'])]);
      break;
    case 'DescribeImageAttribute':
    case 'ResetImageAttribute':
      p.push(['ImageId', image()]);
      p.push(['Attribute', pick(r, ['launchPermission', 'description', 'kernel', 'blockDeviceMapping', 'productCodes', 'bogus', ''])]);
      break;
    case 'DeregisterImage':
      p.push(['ImageId', image()]);
      if (chance(r, 0.3)) p.push(['DeleteAssociatedSnapshots', pick(r, ['true', 'false', 'x'])]);
      break;
    case 'ModifyImageAttribute':
      p.push(['ImageId', image()]);
      switch (int(r, 0, 4)) {
        case 0:
          p.push([`LaunchPermission.${pick(r, ['Add', 'Remove'])}.1.${pick(r, ['UserId', 'Group', 'OrganizationArn', 'OrganizationalUnitArn'])}`,
            pick(r, [SECOND, 'all', 'bogus', pick(r, VALUES)()])]);
          break;
        case 1:
          p.push(['Attribute', pick(r, ['launchPermission', 'description', 'imdsSupport', 'kernel'])]);
          p.push(['OperationType', pick(r, ['add', 'remove', 'replace'])]);
          p.push([pick(r, ['UserId.1', 'UserGroup.1', 'OrganizationArn.1']), pick(r, [SECOND, 'all', 'x'])]);
          break;
        case 2:
          p.push(['Description.Value', pick(r, VALUES)()]);
          break;
        case 3:
          p.push(['ImdsSupport.Value', pick(r, ['v2.0', 'v1.0', ''])]);
          break;
        default:
          p.push(['Attribute', 'description'], ['Value', pick(r, VALUES)()]);
      }
      break;
    case 'CreateTags':
    case 'DeleteTags':
      for (let i = 1, n = int(r, 0, 3); i <= n; i++) p.push([`ResourceId.${i}`, pick(r, [...IMAGE_IDS(), 'snap-0123456789abcdef0', 'i-0123456789abcdef0'])]);
      for (let i = 1, n = int(r, 0, 3); i <= n; i++) {
        p.push([`Tag.${i}.Key`, pick(r, ['team', 'env', '', 'aws:reserved', 'k'.repeat(128), '😀'])]);
        if (chance(r, 0.7)) p.push([`Tag.${i}.Value`, pick(r, VALUES)()]);
      }
      break;
    case 'DescribeTags':
      if (chance(r, 0.7)) filters(r, ['key', 'value', 'resource-id', 'resource-type', 'tag:team', 'tag-key', 'colour', ''], p);
      if (chance(r, 0.3)) p.push(['MaxResults', pick(r, ['5', '4', '1000', '1001', 'x'])]);
      if (chance(r, 0.2)) p.push(['NextToken', pick(r, ['garbage', Buffer.from('{"k":"ami-0\u0000team"}').toString('base64url'), ''])]);
      break;
    case 'CopyImage':
      if (chance(r, 0.9)) p.push(['Name', chance(r, 0.6) ? `fuzz-copy-${int(r, 0, 1e6)}` : pick(r, BAD_NAMES)]);
      if (chance(r, 0.9)) p.push(['SourceRegion', pick(r, REGIONS)]);
      if (chance(r, 0.9)) p.push(['SourceImageId', image()]);
      if (chance(r, 0.3)) p.push(['Encrypted', pick(r, ['true', 'false', 'x'])]);
      if (chance(r, 0.2)) p.push(['KmsKeyId', pick(r, ['alias/aws/ebs', 'alias/none', `arn:aws:kms:us-east-1:${SECOND}:key/00000000-0000-4000-8000-000000000000`, 'x', ''])]);
      if (chance(r, 0.3)) p.push(['ClientToken', pick(r, ['t1', '', 'c'.repeat(70), pick(r, VALUES)()])]);
      if (chance(r, 0.2)) p.push(['CopyImageTags', pick(r, ['true', 'false', '2'])]);
      if (chance(r, 0.2)) p.push(['SnapshotCopyCompletionDurationMinutes', pick(r, ['15', '0', '-1', '99999999999', 'x'])]);
      if (chance(r, 0.1)) p.push([pick(r, ['DestinationOutpostArn', 'DestinationAvailabilityZone', 'DestinationAvailabilityZoneId']), pick(r, VALUES)()]);
      if (chance(r, 0.2)) p.push(['Description', pick(r, VALUES)()]);
      if (chance(r, 0.2)) {
        p.push(['TagSpecification.1.ResourceType', pick(r, ['image', 'snapshot', 'instance', ''])]);
        p.push(['TagSpecification.1.Tag.1.Key', pick(r, ['team', 'aws:x', ''])], ['TagSpecification.1.Tag.1.Value', pick(r, VALUES)()]);
      }
      break;
    case 'GetImageAncestry':
    case 'DisableImage':
    case 'EnableImage':
    case 'DisableImageDeprecation':
    case 'DisableImageDeregistrationProtection':
    case 'CancelImageLaunchPermission':
    case 'RestoreImageFromRecycleBin':
      if (chance(r, 0.9)) p.push(['ImageId', image()]);
      break;
    case 'EnableImageDeprecation':
      if (chance(r, 0.9)) p.push(['ImageId', image()]);
      if (chance(r, 0.9)) p.push(['DeprecateAt', pick(r, DATES)]);
      break;
    case 'EnableImageDeregistrationProtection':
      if (chance(r, 0.9)) p.push(['ImageId', image()]);
      if (chance(r, 0.5)) p.push(['WithCooldown', pick(r, ['true', 'false', 'x'])]);
      break;
    case 'EnableImageBlockPublicAccess':
      p.push(['ImageBlockPublicAccessState', pick(r, ['block-new-sharing', 'unblocked', 'block-all-sharing', '', 'x'])]);
      break;
    case 'EnableSnapshotBlockPublicAccess':
      p.push(['State', pick(r, ['block-new-sharing', 'unblocked', 'block-all-sharing', '', 'x'])]);
      break;
    case 'EnableAllowedImagesSettings':
      p.push(['AllowedImagesSettingsState', pick(r, ['enabled', 'audit-mode', 'disabled', '', 'x'])]);
      break;
    case 'ReplaceImageCriteriaInAllowedImagesSettings':
      for (let i = 1, n = chance(r, 0.05) ? int(r, 11, 60) : int(r, 0, 3); i <= n; i++) {
        const c = `ImageCriterion.${i}`;
        for (let j = 1, m = int(r, 0, 3); j <= m; j++) p.push([`${c}.ImageProvider.${j}`, pick(r, ['amazon', 'none', MAIN, 'aws-marketplace', 'x', '', '1'.repeat(40)])]);
        for (let j = 1, m = int(r, 0, 2); j <= m; j++) p.push([`${c}.ImageName.${j}`, pick(r, PATTERNS)]);
        if (chance(r, 0.3)) p.push([`${c}.MarketplaceProductCode.1`, pick(r, ['abcdefghijklmnopqrstuvwxy', 'x', ''])]);
        if (chance(r, 0.3)) p.push([`${c}.CreationDateCondition.MaximumDaysSinceCreated`, pick(r, ['1', '0', '-1', '2147483648', 'x'])]);
        if (chance(r, 0.3)) p.push([`${c}.DeprecationTimeCondition.MaximumDaysSinceDeprecated`, pick(r, ['1', '0', '-1', '99999', 'x'])]);
      }
      break;
    case 'ListImagesInRecycleBin':
    case 'ListSnapshotsInRecycleBin': {
      const images = action === 'ListImagesInRecycleBin';
      for (let i = 1, n = chance(r, 0.4) ? int(r, 1, 4) : 0; i <= n; i++) p.push([`${images ? 'ImageId' : 'SnapshotId'}.${i}`, images ? image() : pick(r, SNAPSHOT_IDS())]);
      if (chance(r, 0.3)) p.push(['MaxResults', pick(r, ['1', '5', '4', '1000', '1001', '0', '-1', 'abc'])]);
      if (chance(r, 0.2)) p.push(['NextToken', pick(r, ['', 'garbage', Buffer.from('{"k":"ami-0"}').toString('base64url'), 'a'.repeat(10_000)])]);
      break;
    }
    case 'RestoreSnapshotFromRecycleBin':
      if (chance(r, 0.9)) p.push(['SnapshotId', pick(r, SNAPSHOT_IDS())]);
      break;
    case 'DescribeRegions':
      for (let i = 1, n = int(r, 0, 2); i <= n; i++) p.push([`RegionName.${i}`, pick(r, ['us-east-1', 'eu-west-1', 'mars-1', '', 'US-EAST-1'])]);
      if (chance(r, 0.3)) p.push(['AllRegions', pick(r, ['true', 'false', 'x'])]);
      if (chance(r, 0.4)) filters(r, ['region-name', 'endpoint', 'opt-in-status', 'colour'], p);
      break;
    case 'DescribeAvailabilityZones':
      for (let i = 1, n = int(r, 0, 2); i <= n; i++) p.push([`${pick(r, ['ZoneName', 'ZoneId'])}.${i}`, pick(r, ['us-east-1a', 'use1-az1', 'x'])]);
      if (chance(r, 0.4)) filters(r, ['zone-name', 'state', 'region-name', 'zone-type', 'bogus'], p);
      break;
    case 'DescribeVpcs':
    case 'DescribeSubnets': {
      const vpc = action === 'DescribeVpcs';
      for (let i = 1, n = chance(r, 0.3) ? int(r, 1, 3) : 0; i <= n; i++) {
        p.push([`${vpc ? 'VpcId' : 'SubnetId'}.${i}`, pick(r, [fx.subnet, 'vpc-00000000000000000', 'subnet-00000000000000000', 'vpc-bad', '', 'subnet-'])]);
      }
      if (chance(r, 0.5)) filters(r, vpc ? ['vpc-id', 'is-default', 'cidr', 'owner-id', 'state', 'tag:team', 'colour'] : ['subnet-id', 'vpc-id', 'availability-zone', 'default-for-az', 'cidr-block', 'colour'], p);
      if (chance(r, 0.3)) p.push(['MaxResults', pick(r, ['5', '4', '1000', '1001', 'x'])]);
      if (chance(r, 0.2)) p.push(['NextToken', pick(r, ['garbage', '', Buffer.from('{"k":"vpc-0"}').toString('base64url')])]);
      break;
    }
    case 'DescribeAccountAttributes':
      for (let i = 1, n = int(r, 0, 3); i <= n; i++) p.push([`AttributeName.${i}`, pick(r, ['default-vpc', 'supported-platforms', 'max-instances', 'x', ''])]);
      break;
    case 'CreateSecurityGroup':
      if (chance(r, 0.9)) p.push(['GroupName', pick(r, GROUP_NAMES)]);
      if (chance(r, 0.9)) p.push(['GroupDescription', chance(r, 0.5) ? 'fuzz' : pick(r, VALUES)()]);
      if (chance(r, 0.3)) p.push(['VpcId', pick(r, ['vpc-00000000000000000', 'vpc-bad', '', fx.subnet])]);
      if (chance(r, 0.2)) {
        p.push(['TagSpecification.1.ResourceType', pick(r, ['security-group', 'instance', ''])]);
        p.push(['TagSpecification.1.Tag.1.Key', pick(r, ['team', 'aws:x', ''])], ['TagSpecification.1.Tag.1.Value', pick(r, VALUES)()]);
      }
      break;
    case 'DeleteSecurityGroup':
      if (chance(r, 0.7)) p.push(['GroupId', pick(r, GROUP_IDS())]);
      if (chance(r, 0.4)) p.push(['GroupName', pick(r, GROUP_NAMES)]);
      break;
    case 'DescribeSecurityGroups':
      for (let i = 1, n = chance(r, 0.3) ? int(r, 1, 3) : 0; i <= n; i++) p.push([`GroupId.${i}`, pick(r, GROUP_IDS())]);
      for (let i = 1, n = chance(r, 0.2) ? int(r, 1, 2) : 0; i <= n; i++) p.push([`GroupName.${i}`, pick(r, GROUP_NAMES)]);
      if (chance(r, 0.5)) filters(r, SG_FILTERS, p);
      if (chance(r, 0.3)) p.push(['MaxResults', pick(r, ['5', '4', '1000', '1001', 'x'])]);
      if (chance(r, 0.2)) p.push(['NextToken', pick(r, ['garbage', '', Buffer.from('{"k":"sg-0"}').toString('base64url')])]);
      break;
    case 'DescribeSecurityGroupRules':
      for (let i = 1, n = chance(r, 0.3) ? int(r, 1, 3) : 0; i <= n; i++) p.push([`SecurityGroupRuleId.${i}`, pick(r, RULE_IDS())]);
      if (chance(r, 0.5)) filters(r, ['group-id', 'security-group-rule-id', 'tag:team', 'colour'], p);
      if (chance(r, 0.3)) p.push(['MaxResults', pick(r, ['5', '4', '1000', '1001', 'x'])]);
      break;
    case 'AuthorizeSecurityGroupIngress':
    case 'AuthorizeSecurityGroupEgress':
    case 'RevokeSecurityGroupIngress':
    case 'RevokeSecurityGroupEgress':
      if (chance(r, 0.8)) p.push(['GroupId', pick(r, GROUP_IDS())]);
      if (chance(r, 0.2)) p.push(['GroupName', pick(r, GROUP_NAMES)]);
      if (chance(r, 0.3)) {
        // The legacy form.
        if (chance(r, 0.8)) p.push(['IpProtocol', pick(r, PROTOCOLS)]);
        if (chance(r, 0.7)) p.push(['FromPort', pick(r, PORTS)], ['ToPort', pick(r, PORTS)]);
        if (chance(r, 0.7)) p.push(['CidrIp', pick(r, CIDRS)]);
        if (chance(r, 0.2)) p.push(['SourceSecurityGroupName', pick(r, GROUP_NAMES)]);
        if (chance(r, 0.1)) p.push(['SourceSecurityGroupOwnerId', pick(r, ACCOUNTS)]);
      }
      for (let i = 1, n = int(r, 0, 3); i <= n; i++) {
        const m = `IpPermissions.${i}`;
        if (chance(r, 0.9)) p.push([`${m}.IpProtocol`, pick(r, PROTOCOLS)]);
        if (chance(r, 0.7)) p.push([`${m}.FromPort`, pick(r, PORTS)], [`${m}.ToPort`, pick(r, PORTS)]);
        for (let j = 1, k = int(r, 0, 2); j <= k; j++) p.push([`${m}.IpRanges.${j}.CidrIp`, pick(r, CIDRS)]);
        if (chance(r, 0.3)) p.push([`${m}.Ipv6Ranges.1.CidrIpv6`, pick(r, CIDRS)]);
        if (chance(r, 0.2)) p.push([`${m}.IpRanges.1.Description`, pick(r, VALUES)()]);
        if (chance(r, 0.3)) p.push([`${m}.Groups.1.GroupId`, pick(r, GROUP_IDS())]);
        if (chance(r, 0.1)) p.push([`${m}.Groups.1.UserId`, pick(r, ACCOUNTS)]);
        if (chance(r, 0.1)) p.push([`${m}.Groups.1.GroupName`, pick(r, GROUP_NAMES)]);
        if (chance(r, 0.1)) p.push([`${m}.PrefixListIds.1.PrefixListId`, pick(r, ['pl-12345678', 'x', ''])]);
      }
      if (action.startsWith('Revoke') && chance(r, 0.3)) p.push(['SecurityGroupRuleId.1', pick(r, RULE_IDS())]);
      if (chance(r, 0.1)) p.push(['TagSpecification.1.ResourceType', pick(r, ['security-group-rule', 'x'])], ['TagSpecification.1.Tag.1.Key', 'k']);
      break;
    case 'ModifySecurityGroupRules':
      if (chance(r, 0.9)) p.push(['GroupId', pick(r, GROUP_IDS())]);
      for (let i = 1, n = int(r, 0, 2); i <= n; i++) {
        const m = `SecurityGroupRule.${i}`;
        if (chance(r, 0.9)) p.push([`${m}.SecurityGroupRuleId`, pick(r, RULE_IDS())]);
        if (chance(r, 0.8)) p.push([`${m}.SecurityGroupRule.IpProtocol`, pick(r, PROTOCOLS)]);
        if (chance(r, 0.7)) p.push([`${m}.SecurityGroupRule.FromPort`, pick(r, PORTS)], [`${m}.SecurityGroupRule.ToPort`, pick(r, PORTS)]);
        if (chance(r, 0.6)) p.push([`${m}.SecurityGroupRule.CidrIpv4`, pick(r, CIDRS)]);
        if (chance(r, 0.2)) p.push([`${m}.SecurityGroupRule.ReferencedGroupId`, pick(r, GROUP_IDS())]);
      }
      break;
    default:
      for (let i = 0, n = int(r, 0, 4); i < n; i++) p.push([pick(r, NAME_POOL), pick(r, VALUES)()]);
  }
  if (chance(r, 0.1)) p.push(['DryRun', pick(r, ['true', 'false', 'TRUE', '1', ''])]);
  if (chance(r, 0.2)) p.push(['Version', pick(r, ['2016-11-15', '2014-01-01', 'x'])]);
  return p;
}

/** Renames, drops, duplicates, adds and garbles fields; returns a word for each change. */
function mutate(r: Rng, p: Pairs): string[] {
  const done: string[] = [];
  // Mostly light garbling, so that many requests get past the parser to the handlers.
  const n = chance(r, 0.3) ? 0 : chance(r, 0.6) ? int(r, 1, 2) : int(r, 3, 6);
  for (let k = 0; k < n; k++) {
    let i = int(r, 0, Math.max(0, p.length - 1));
    // The Action is left alone most of the time: without one, a request goes no further.
    if (p[i]?.[0] === 'Action' && chance(r, 0.8)) i = int(r, 0, Math.max(0, p.length - 1));
    switch (int(r, 0, 10)) {
      case 0: // an index out of the 1-based range, or not a number
        if (p[i]) p[i][0] = p[i][0].replace(/\.\d+(\.|$)/, `.${pick(r, ['0', '-1', '99999999', '1e3', '01', 'a', '', ' 1', '1.5', '２', '4294967296'])}$1`);
        done.push('index');
        break;
      case 1:
        p.splice(i, 1);
        done.push('drop');
        break;
      case 2:
        if (p[i]) p.push([p[i][0], chance(r, 0.5) ? p[i][1] : pick(r, VALUES)()]);
        done.push('duplicate');
        break;
      case 3:
      case 4:
        p.push([pick(r, NAME_POOL), pick(r, VALUES)()]);
        done.push('add');
        break;
      case 5:
      case 6:
        if (p[i]) p[i][1] = pick(r, VALUES)();
        done.push('value');
        break;
      case 7: // deep dotted name
        if (p[i]) p[i][0] += `.${Array.from({ length: int(r, 1, 2000) }, () => pick(r, ['a', '1', 'Value', 'Ebs', ''])).join('.')}`;
        done.push('deep');
        break;
      case 8:
        if (p[i]) p[i][0] = chance(r, 0.5) ? p[i][0].toLowerCase() : p[i][0].toUpperCase();
        done.push('case');
        break;
      case 9: // a long list; now and then longer than SQLite's 32,766 bound parameters
        p.push(...Array.from({ length: chance(r, 0.1) ? int(r, 20_000, 40_000) : int(r, 100, 3000) }, (_, j): [string, string] =>
          [`${pick(r, ['ImageId', 'Filter.1.Value', 'Owner', 'ResourceId', 'ExecutableBy'])}.${j + 1}`, pick(r, [CATALOG_IMAGE, 'self', '*', 'x'])]));
        done.push('long-list');
        break;
      default:
        if (p[i]) p[i] = [p[i][1], p[i][0]];
        done.push('swap');
    }
  }
  return done;
}

/**
 * Fields that make a request which could change something fail validation, whatever else it
 * holds. They are sent last both in the query and in the body: the server reads query then body
 * (when the body is a form), and of repeated keys the last wins, so they are what it sees.
 */
function poison(r: Rng, action: string): Pairs {
  const generic: Pairs[] = [[['DryRun', 'true']], [['AmiforgeFuzzUnknownParameter', '1']]];
  const specific: Record<string, Pairs[]> = {
    RegisterImage: [[['Name', pick(r, BAD_NAMES)]]],
    DeregisterImage: [[['ImageId', pick(r, NOT_OWNED)]]],
    ResetImageAttribute: [[['ImageId', pick(r, NOT_OWNED)]]],
    ModifyImageAttribute: [[['ImageId', pick(r, NOT_OWNED)]], [['LaunchPermission.Add.99999.UserId', 'not-an-account']]],
    CreateTags: [[['ResourceId.999999', MISSING_IMAGE]]],
    DeleteTags: [[['ResourceId.999999', MISSING_IMAGE]]],
    // A group of no account: whoever signs, nothing is found, so nothing changes.
    CreateSecurityGroup: [[['GroupName', 'sg-poisoned']]],
    ...Object.fromEntries(['DeleteSecurityGroup', 'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress',
      'RevokeSecurityGroupEgress', 'ModifySecurityGroupRules'].map((a) => [a, [[['GroupId', MISSING_GROUP]] as Pairs]])),
  };
  const own = Object.hasOwn(specific, action) ? specific[action] : undefined;
  return own && chance(r, 0.7) ? pick(r, own) : pick(r, generic);
}

const UNRESERVED = /[A-Za-z0-9\-_.~]/;
/** Percent-encodes UTF-8 bytes (lone surrogates become U+FFFD, as Buffer does). */
function enc(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += UNRESERVED.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const GARBAGE = ['%', '%Z', '%G0', '%E2%82', '%FF', '%C0%AF', '%00', '+', '&', '=', '&&', '==', '%ED%A0%80', '%F4%90%80%80', '\x00',
  '\x80', '\xff\xfe', '\xc3', '%25', '%2', ';', '#', '?', ' ', '\t'];

// In a request target, only what an HTTP parser lets through (raw bytes that it rejects are
// sent now and then by generate()), and not '#': what follows might be taken for a fragment.
const QUERY_GARBAGE = GARBAGE.filter((g) => /^[!-~]+$/.test(g) && g !== '#');

/** Form-encodes pairs (as a latin1 string: one char per byte), sometimes with garbage spliced in. */
function form(r: Rng, p: Pairs, garbage: boolean, pool = GARBAGE): string {
  let s = p.map(([k, v]) => (chance(r, 0.03) ? enc(k) : `${enc(k)}=${enc(v)}`)).join('&');
  if (garbage) {
    for (let i = 0, n = int(r, 1, 5); i < n; i++) {
      const at = int(r, 0, s.length);
      s = s.slice(0, at) + pick(r, pool) + s.slice(at);
    }
  }
  return s;
}

interface FuzzRequest {
  index: number;
  label: string;
  head: string; // latin1
  body: Buffer;
  /** True when the request is an action that could change something: only a 4xx is right. */
  mutating: boolean;
  /** HEAD: the answer has no body. */
  noBody: boolean;
  /** The account the request is signed as, when its signature is well formed. */
  signer?: string;
}

const FORM = 'application/x-www-form-urlencoded; charset=utf-8';
const ODD_CONTENT_TYPES = ['application/x-www-form-urlencoded', undefined, 'text/plain', 'application/json',
  'application/x-amz-json-1.1', 'text/xml', 'multipart/form-data; boundary=xyz', 'application/octet-stream', '', ';;;',
  'application/x-www-form-urlencoded; charset=latin1', 'APPLICATION/X-WWW-FORM-URLENCODED'];
const PATHS = ['/foo', '//', '/ec2/', '/%2e%2e/%2e%2e/', '/index.html', '/%ZZ', `/${'a'.repeat(3000)}`, '/\xe9t\xe9', '/;x', '*',
  'http://127.0.0.1/', '/?', '/./', '/%00'];

/** SigV4 headers (by the SDK's own signer) for a request to path '/' with these headers and body. */
async function sigV4(account: string, region: string, method: string, headers: [string, string][], body: Buffer): Promise<[string, string][]> {
  const signer = new SignatureV4({
    service: 'ec2', region, credentials: { accessKeyId: account, secretAccessKey: 'fuzz-secret' }, sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method, protocol: 'http:', hostname: '127.0.0.1', port: fx.port, path: '/', query: {},
    headers: Object.fromEntries(headers.map(([k, v]) => [k.toLowerCase(), v])), body,
  });
  return Object.entries(signed.headers).filter(([k]) => ['authorization', 'x-amz-date', 'x-amz-content-sha256'].includes(k));
}

const many = (n: number, field: (i: number) => [string, string]): Pairs => Array.from({ length: n }, (_, i) => field(i + 1));

/**
 * Requests that broke the server before (each found by this test and fixed in src/), sent
 * before the random ones: they are too specific for the random generator to hit often.
 */
const CORPUS: { label: string; fields: () => Pairs }[] = [
  // SQLite's 32,766 bound parameters (a 500 "too many SQL variables").
  { label: '40,000 ImageIds', fields: () => [['Action', 'DescribeImages'], ...many(40_000, (i) => [`ImageId.${i}`, CATALOG_IMAGE])] },
  { label: '40,000 Owners', fields: () => [['Action', 'DescribeImages'], ...many(40_000, (i) => [`Owner.${i}`, 'self'])] },
  { label: '40,000 ExecutableBy', fields: () => [['Action', 'DescribeImages'], ...many(40_000, (i) => [`ExecutableBy.${i}`, i === 1 ? 'all' : 'self'])] },
  // SQLite's expression depth (a 500): now FilterLimitExceeded, as EC2 past 200 values.
  { label: '1,500 name values', fields: () => [['Action', 'DescribeImages'], ['Filter.1.Name', 'name'], ...many(1500, (i) => [`Filter.1.Value.${i}`, `x${i}`])] },
  { label: '1,500 tag filters', fields: () => [['Action', 'DescribeImages'], ...many(1500, (i) => [`Filter.${i}.Name`, `tag:k${i}`])] },
  { label: '40,000 DescribeTags values', fields: () => [['Action', 'DescribeTags'], ['Filter.1.Name', 'key'], ...many(40_000, (i) => [`Filter.1.Value.${i}`, `k${i}`])] },
  // SQLite's 50,000-byte GLOB patterns (a 500), and a backtracking RegExp that stalled the server.
  { label: 'a 50,001-character name pattern', fields: () => [['Action', 'DescribeImages'], ['Filter.1.Name', 'name'], ['Filter.1.Value.1', `${'*'.repeat(50_000)}x`]] },
  { label: 'a 60,000-? name pattern', fields: () => [['Action', 'DescribeImages'], ['Filter.1.Name', 'name'], ['Filter.1.Value.1', '?'.repeat(60_000)]] },
  { label: 'a backtracking description pattern', fields: () => [['Action', 'DescribeImages'], ['Filter.1.Name', 'description'], ['Filter.1.Value.1', `${'*a'.repeat(5000)}*Z`]] },
  { label: 'a backtracking tag pattern', fields: () => [['Action', 'DescribeImages'], ['Filter.1.Name', 'tag:team'], ['Filter.1.Value.1', `${'*f'.repeat(5000)}*Z`]] },
  // Object.prototype's members as actions and filter names (a 200 and 500s).
  ...['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'].map((a) => ({ label: `Action=${a}`, fields: (): Pairs => [['Action', a]] })),
  ...['constructor', '__proto__', 'toString'].map((f) => ({
    label: `filter ${f}`, fields: (): Pairs => [['Action', 'DescribeImages'], ['Filter.1.Name', f], ['Filter.1.Value.1', '*']],
  })),
];

async function corpusRequest(k: number): Promise<FuzzRequest> {
  const fields = CORPUS[k].fields();
  const body = Buffer.from(fields.map(([n, v]) => `${enc(n)}=${enc(v)}`).join('&'), 'latin1');
  const headers: [string, string][] = [['Host', `127.0.0.1:${fx.port}`], ['Content-Type', FORM]];
  headers.push(...await sigV4(MAIN, 'us-east-1', 'POST', headers, body), ['Content-Length', String(body.length)], ['Connection', 'close']);
  return {
    index: -(k + 1),
    label: `corpus: ${CORPUS[k].label}`,
    head: `POST / HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`,
    body,
    mutating: fields.some(([n, v]) => n === 'Action' && !READ_ONLY.has(v)),
    noBody: false,
    signer: MAIN,
  };
}

async function generate(index: number): Promise<FuzzRequest> {
  if (index < 0) return corpusRequest(-index - 1);
  const r = requestRng(SEED, index);
  const what: string[] = [];

  // The action(s).
  const kind = r();
  let action: string | undefined;
  if (kind < 0.6) action = pick(r, IMPLEMENTED);
  else if (kind < 0.75) action = pick(r, OTHER_REAL);
  else if (kind < 0.9) action = pick(r, UNKNOWN_ACTIONS);
  else action = chance(r, 0.5) ? '' : undefined;
  const fields: Pairs = action === undefined ? [] : [['Action', action]];
  fields.push(...baseFields(action ?? '', r));
  if (chance(r, 0.05)) fields.push(['Action', pick(r, [...IMPLEMENTED, ...UNKNOWN_ACTIONS])]);
  what.push(...mutate(r, fields));
  if (chance(r, 0.1)) fields.reverse();

  // Poison for every action value in the request that could change something.
  const actions = fields.filter(([k]) => k === 'Action').map(([, v]) => v);
  const mutating = actions.some((a) => !READ_ONLY.has(a));
  const poisoned = [...new Set(actions.filter((a) => !READ_ONLY.has(a)))].flatMap((a) => poison(r, a));

  // Method, placement and encoding.
  const signedWell = r() < 0.85;
  const methods = signedWell
    ? [...Array(14).fill('POST'), 'GET', 'GET', 'GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'FOO', 'post', 'CONNECT', 'PROPFIND']
    : ['POST', 'POST', 'GET']; // unsigned requests on other methods are answered as EBS (rest-json) would
  const method = pick(r, methods);
  const hasBody = method !== 'GET' && method !== 'HEAD';
  let queryFields: Pairs = [];
  let bodyFields: Pairs = [];
  if (!hasBody) queryFields = fields;
  else if (chance(r, 0.15)) {
    const cut = int(r, 0, fields.length);
    queryFields = fields.slice(0, cut);
    bodyFields = fields.slice(cut);
  } else if (chance(r, 0.1)) queryFields = fields;
  else bodyFields = fields;
  const garbage = chance(r, 0.2);
  if (garbage) what.push('garbage');
  let query = form(r, [...queryFields, ...poisoned], garbage && chance(r, 0.5), QUERY_GARBAGE);
  let bodyText = hasBody ? form(r, [...bodyFields, ...poisoned], garbage) : '';
  if (hasBody && chance(r, 0.04)) {
    // Random bytes for a body, then the poison (a form parser still splits on '&').
    bodyText = Buffer.from(Array.from({ length: int(r, 0, 2000) }, () => int(r, 0, 255))).toString('latin1') + (poisoned.length ? `&${form(r, poisoned, false)}` : '');
    what.push('random-body');
  }
  if (hasBody && chance(r, 0.01)) {
    bodyText = `${form(r, [['Description', 'd'.repeat(int(r, 100_000, 1_000_000))]], false)}&${bodyText}`;
    what.push('huge-body');
  }
  const body = Buffer.from(bodyText, 'latin1');

  // Path: almost always '/', never the operational /_amiforge/ endpoints.
  let path = '/';
  if (signedWell && chance(r, 0.08)) path = pick(r, PATHS);
  else if (!signedWell && chance(r, 0.05)) path = pick(r, ['/foo', '//', '/ec2/']);
  if (chance(r, 0.03)) query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${pick(r, ['x', `${MAIN}%2F20200101%2Fus-east-1%2Fec2%2Faws4_request`])}${query ? `&${query}` : ''}`;
  if (chance(r, 0.02)) {
    const at = int(r, 0, query.length);
    query = query.slice(0, at) + pick(r, ['\x00', '\x80', '\xff\xfe', '\xc3', ' ', '\t', '#', '\x7f']) + query.slice(at);
    what.push('raw-target');
  }
  const target = path === '*' || path.startsWith('http:') ? path : `${path}${query ? `?${query}` : ''}`;

  // Headers and signature.
  const contentType = !hasBody ? undefined : chance(r, 0.85) ? FORM : pick(r, ODD_CONTENT_TYPES);
  const account = pick(r, [MAIN, MAIN, SECOND, THIRD, 'AKIAFUZZNOTANACCOUNT']);
  const region = chance(r, 0.9) ? 'us-east-1' : pick(r, ['eu-west-1', 'ap-northeast-1', 'mars-north-1', 'US-EAST-1']);
  const host = `127.0.0.1:${fx.port}`;
  const headers: [string, string][] = [['Host', host]];
  if (contentType !== undefined) headers.push(['Content-Type', contentType]);
  const auth = await sigV4(account, region, /^[A-Z]+$/.test(method) ? method : 'POST', headers, body);
  if (signedWell) {
    headers.push(...auth);
    what.push(`signed:${account}@${region}`);
  } else if (chance(r, 0.3)) {
    what.push('unsigned');
  } else {
    const authorization = auth.find(([k]) => k === 'authorization')![1];
    const variants = [
      authorization.slice(0, int(r, 0, authorization.length - 1)),
      authorization.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1'),
      authorization.replace(/SignedHeaders=[^,]*,\s*/, ''),
      authorization.replace(/Credential=[^,]*/, `Credential=${account}/2020/us-east-1/ec2`),
      authorization.replace(/Credential=[^,]*/, `Credential=${account}/20200101/mars-1/ec2/aws4_request`),
      authorization.replace(/Credential=[^,]*/, 'Credential=/////'),
      authorization.replace('Signature=', 'Signature=Signature='),
      authorization.replace(/SignedHeaders=[^,]*/, 'SignedHeaders=x-amz-date'),
      `${authorization}, Credential=twice`,
      'AWS4-HMAC-SHA256',
      'Basic dXNlcjpwYXNz',
      '',
    ];
    headers.push(['Authorization', pick(r, variants)]);
    if (chance(r, 0.7)) headers.push(['X-Amz-Date', pick(r, [auth.find(([k]) => k === 'x-amz-date')![1], 'yesterday', '20201301T000000Z', ''])]);
    if (chance(r, 0.1)) headers.push(['Authorization', authorization]);
    what.push('bad-signature');
  }

  // Framing: usually a plain Content-Length; sometimes chunked, wrong or contradictory.
  const framing = r();
  let payload = body;
  if (!hasBody && body.length === 0) {
    if (chance(r, 0.5)) headers.push(['Content-Length', '0']);
  } else if (framing < 0.9) {
    headers.push(['Content-Length', String(body.length)]);
  } else if (framing < 0.95) {
    headers.push(['Transfer-Encoding', 'chunked']);
    const chunks: Buffer[] = [];
    for (let at = 0; at < body.length;) {
      const size = Math.min(body.length - at, int(r, 1, 4096));
      chunks.push(Buffer.from(`${size.toString(16)}\r\n`, 'latin1'), body.subarray(at, at + size), Buffer.from('\r\n'));
      at += size;
    }
    chunks.push(Buffer.from(chance(r, 0.8) ? '0\r\n\r\n' : 'ZZ\r\n', 'latin1'));
    payload = Buffer.concat(chunks);
    what.push('chunked');
  } else {
    const variant = int(r, 0, 2);
    if (variant === 0) headers.push(['Content-Length', String(body.length)], ['Content-Length', String(body.length + 1)]);
    else if (variant === 1) headers.push(['Content-Length', String(body.length)], ['Transfer-Encoding', 'chunked']);
    else headers.push(['Content-Length', pick(r, ['-1', 'abc', '1e3', ' '])]);
    what.push('bad-framing');
  }
  if (chance(r, 0.03)) headers.push(['X-Fuzz', 'h'.repeat(int(r, 1000, 40_000))]);
  if (chance(r, 0.02)) headers.push(['Bad Header', 'x']);
  if (chance(r, 0.03)) headers.push(['Expect', '100-continue']);
  if (chance(r, 0.02)) headers.push(['Content-Encoding', 'gzip']);
  headers.push(['Connection', 'close']);

  const head = `${method} ${target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  const label = `${method} ${JSON.stringify(target.slice(0, 60))} action=${JSON.stringify((action ?? '(none)').slice(0, 40))} [${what.join(' ')}]`;
  const signer = signedWell ? (/^\d{12}$/.test(account) ? account : MAIN) : undefined;
  return { index, label, head, body: payload, mutating, noBody: method === 'HEAD', signer };
}

// ---------------------------------------------------------------------------------------------
// Sending, and checking the answer.

const send = (req: FuzzRequest): Promise<RawAnswer> => sendRaw(fx.port, req, REQUEST_TIMEOUT_MS);

const ERROR_XML = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>([A-Za-z0-9.]+)<\/Code><Message>([^<]+)<\/Message><\/Error><\/Errors><RequestID>([0-9a-f-]{36})<\/RequestID><\/Response>$/;
const SUCCESS_XML = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<(\w+)Response xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/2016-11-15\/"><requestId>([0-9a-f-]{36})<\/requestId>/;
const STACK_TRACE = /\bat [\w$.<>]+ \(|\.ts:\d+|\.js:\d+|node:internal|file:\/\/|\/work\/|\/src\/|Error: /;

/** Tags nest properly, text holds no raw '<' and only XML's five entities. */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^>]*\?>\n/, '');
  if (/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body)) return false;
  for (const part of body.split(/(<[^<>]*>)/)) {
    if (part.startsWith('<')) {
      const m = /^<(\/?)([A-Za-z][\w.-]*)(?: xmlns="[^"]*")?>$/.exec(part);
      if (!m) return false;
      if (m[1]) {
        if (stack.pop() !== m[2]) return false;
      } else {
        stack.push(m[2]);
      }
    } else if (/[<>]|&(?!(amp|lt|gt|quot|apos);)/.test(part)) {
      return false;
    }
  }
  return stack.length === 0;
}

interface Verdict { status?: number; code?: string; problem?: string }

function judge(req: FuzzRequest, answer: RawAnswer): Verdict {
  if (answer.timedOut) return { problem: `no answer within ${REQUEST_TIMEOUT_MS} ms` };
  const raw = answer.bytes.toString('latin1'); // one char per byte, so offsets are byte offsets
  let start = 0;
  let split = raw.indexOf('\r\n\r\n');
  // An interim 100 Continue (the request sent Expect: 100-continue) comes before the answer.
  while (split >= 0 && /^HTTP\/1\.1 100 /.test(raw.slice(start))) {
    start = split + 4;
    split = raw.indexOf('\r\n\r\n', start);
  }
  if (split < 0) return { problem: `no HTTP answer (socket ${answer.error ?? 'closed'}): ${JSON.stringify(raw.slice(0, 200))}` };
  const head = raw.slice(start, split).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head[0])?.[1]);
  if (!status) return { problem: `bad status line ${JSON.stringify(head[0])}` };
  const headers = new Map(head.slice(1).map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
  const body = answer.bytes.subarray(split + 4).toString('utf8');
  if (status >= 500) return { status, problem: `HTTP ${status}: ${body.slice(0, 300)}` };
  if (status < 200 || (status >= 300 && status < 400)) return { status, problem: `unexpected HTTP ${status}` };
  if (status < 300 && req.mutating) return { status, problem: `HTTP ${status} for a request that could change something: ${body.slice(0, 300)}` };
  const requestId = headers.get('x-amzn-requestid');
  if (!requestId || !/^[0-9a-f-]{36}$/.test(requestId)) return { status, problem: 'no x-amzn-requestid header' };
  if (headers.get('content-type') !== 'text/xml;charset=UTF-8') return { status, problem: `content-type ${headers.get('content-type')}` };
  if (req.noBody) return { status };
  if (Number(headers.get('content-length')) !== Buffer.byteLength(body)) return { status, problem: 'content-length does not match the body' };
  if (STACK_TRACE.test(body)) return { status, problem: `a stack trace or file path in the body: ${body.slice(0, 400)}` };
  if (!wellFormed(body)) return { status, problem: `malformed XML: ${body.slice(0, 400)}` };
  // Another account's security group is named only when the request named it (an echo).
  const sent = req.head + req.body.toString('latin1');
  const leaked = fx.groups.find((g) => g.owner !== req.signer && body.includes(g.id) && !sent.includes(g.id));
  if (leaked) return { status, problem: `names ${leaked.owner}'s group ${leaked.id} to ${req.signer ?? 'an unsigned caller'}: ${body.slice(0, 300)}` };
  if (status >= 400) {
    const m = ERROR_XML.exec(body);
    if (!m) return { status, problem: `not EC2's error envelope: ${body.slice(0, 400)}` };
    if (m[3] !== requestId) return { status, problem: 'RequestID differs from x-amzn-requestid' };
    return { status, code: m[1] };
  }
  const m = SUCCESS_XML.exec(body);
  if (!m || !body.endsWith(`</${m[1]}Response>`)) return { status, problem: `not an EC2 response document: ${body.slice(0, 300)}` };
  if (m[2] !== requestId) return { status, problem: 'requestId differs from x-amzn-requestid' };
  return { status, code: `${m[1]}:200` };
}

// ---------------------------------------------------------------------------------------------
// The store before and after: through the API, and the database and block files themselves.

async function apiState(): Promise<unknown> {
  const state: Record<string, unknown> = {};
  for (const account of [MAIN, SECOND, THIRD]) {
    for (const region of ['us-east-1', 'eu-west-1']) {
      const c = ec2Client(`http://127.0.0.1:${fx.port}`, devCredentials(account), region);
      const own = (await c.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? [];
      const visible = (await c.send(new DescribeImagesCommand({}))).Images ?? [];
      const tags = (await c.send(new DescribeTagsCommand({}))).Tags ?? [];
      const perms: Record<string, unknown> = {};
      for (const img of own) {
        perms[img.ImageId!] = (await c.send(new DescribeImageAttributeCommand({ ImageId: img.ImageId, Attribute: 'launchPermission' }))).LaunchPermissions;
      }
      const byId = (a: { ImageId?: string }, b: { ImageId?: string }) => a.ImageId!.localeCompare(b.ImageId!);
      const groups = (await c.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
      const rules = (await c.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules ?? [];
      state[`${account}@${region}`] = { own: own.sort(byId), visible: visible.map((i) => i.ImageId).sort(), tags, perms, groups, rules };
    }
  }
  return state;
}

function storeState(dataDir: string): { tables: Record<string, string>; files: string[] } {
  const tables = tableDigests(dataDir);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!/metadata\.sqlite(-wal|-shm)?$/.test(entry.name) && entry.name !== 'accounts.json') {
        files.push(`${relative(dataDir, path)} ${statSync(path).size}`);
      }
    }
  };
  walk(dataDir);
  return { tables, files: files.sort() };
}

// ---------------------------------------------------------------------------------------------

let server: RunningServer;

async function makeSnapshot(account: string): Promise<string> {
  const ebs = new EBSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: devCredentials(account), maxAttempts: 1 });
  const { SnapshotId } = await ebs.send(new StartSnapshotCommand({ VolumeSize: 8, Timeout: 60 }));
  await ebs.send(new CompleteSnapshotCommand({ SnapshotId, ChangedBlocksCount: 0 }));
  return SnapshotId!;
}

async function registerImage(c: EC2Client, name: string, snapshot: string): Promise<string> {
  const out = await c.send(new RegisterImageCommand({
    Name: name, RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshot } }],
    TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'team', Value: 'fuzz' }] }],
  }));
  return out.ImageId!;
}

/** A disabled image, a completed copy of `publicImage`, and an image in the Recycle Bin (its rules keep both types). */
async function governedFixture(main: EC2Client, publicImage: string): Promise<string[]> {
  const rbin = new RbinClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: devCredentials(MAIN), maxAttempts: 1 });
  for (const ResourceType of ['EC2_IMAGE', 'EBS_SNAPSHOT'] as const) {
    await rbin.send(new CreateRuleCommand({ ResourceType, RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' } }));
  }
  const snapshot = await makeSnapshot(MAIN);
  const disabled = await registerImage(main, 'fuzz-disabled', snapshot);
  await main.send(new DisableImageCommand({ ImageId: disabled }));
  const copy = (await main.send(new CopyImageCommand({ Name: 'fuzz-copy', SourceRegion: 'us-east-1', SourceImageId: publicImage }))).ImageId!;
  // The copy completes in the background: before the store is first looked at, not during the fuzz.
  await waitUntilImageAvailable({ client: main, maxWaitTime: 60, minDelay: 0.1, maxDelay: 0.5 }, { ImageIds: [copy] });
  const binned = await registerImage(main, 'fuzz-binned', snapshot);
  await main.send(new ModifyImageAttributeCommand({ ImageId: binned, LaunchPermission: { Add: [{ UserId: SECOND }] } }));
  await main.send(new DeregisterImageCommand({ ImageId: binned }));
  return [disabled, copy, binned];
}

before(async () => {
  server = await startServer();
  const main = ec2Client(server.endpoint, devCredentials(MAIN));
  const second = ec2Client(server.endpoint, devCredentials(SECOND));
  const snapshot = await makeSnapshot(MAIN);
  const ownImages = [
    await registerImage(main, 'fuzz-private', snapshot),
    await registerImage(main, 'fuzz-shared', snapshot),
    await registerImage(main, 'fuzz-public', snapshot),
  ];
  await main.send(new ModifyImageAttributeCommand({ ImageId: ownImages[1], LaunchPermission: { Add: [{ UserId: SECOND }] } }));
  await main.send(new ModifyImageAttributeCommand({ ImageId: ownImages[2], LaunchPermission: { Add: [{ Group: 'all' }] } }));
  await main.send(new CreateTagsCommand({ Resources: [CATALOG_IMAGE], Tags: [{ Key: 'env', Value: 'catalog' }] }));
  const secondImage = await registerImage(second, 'fuzz-second', await makeSnapshot(SECOND));
  const governedImages = await governedFixture(main, ownImages[2]);
  const binnedSnapshot = await makeSnapshot(MAIN);
  await main.send(new DeleteSnapshotCommand({ SnapshotId: binnedSnapshot }));
  // Default networks are made on first use: made here for every account and region the fuzzer
  // signs as, so that a read-only request finds them made rather than makes them.
  for (const account of [MAIN, SECOND, THIRD]) {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-northeast-1']) await ec2Client(server.endpoint, devCredentials(account), region).send(new DescribeVpcsCommand({}));
  }
  const web = (await main.send(new CreateSecurityGroupCommand({ GroupName: 'fuzz-web', Description: 'fuzz' }))).GroupId!;
  const added = await main.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  const secondGroup = (await second.send(new CreateSecurityGroupCommand({ GroupName: 'fuzz-second', Description: 'fuzz' }))).GroupId!;
  const defaults = async (c: EC2Client) => (await c.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }))).SecurityGroups![0].GroupId!;
  const groups = [{ id: web, owner: MAIN }, { id: await defaults(main), owner: MAIN }, { id: secondGroup, owner: SECOND }, { id: await defaults(second), owner: SECOND }];
  const subnet = (await main.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1a'] }] }))).Subnets![0].SubnetId!;
  fx = { port: server.port, snapshot, ownImages, secondImage, governedImages, binnedSnapshot, groups, mainRule: added.SecurityGroupRules![0].SecurityGroupRuleId!, subnet };
});

after(async () => {
  // A server stuck in a request never gets to its SIGTERM handler: kill it rather than hang here.
  if (!server) return;
  const stopped = server.stop().then(() => true);
  const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 10_000, false).unref());
  if (!(await Promise.race([stopped, timeout]))) await server.kill();
});

test(`fuzz: garbled EC2 Query requests (seed ${SEED})`, { timeout: HARD_LIMIT_MS + 90_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (reproduce with FUZZ_SEED=${SEED}${ONLY === undefined ? '' : ` FUZZ_ONLY=${ONLY}`})`);
  const apiBefore = await apiState();
  const storeBefore = storeState(server.dataDir);

  // Negative indexes are the corpus; it goes first.
  const indexes = ONLY === undefined ? [...CORPUS.map((_, k) => -(k + 1)), ...Array.from({ length: COUNT }, (_, i) => i)] : [ONLY];
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  const codes = new Map<string, number>();
  let sent = 0;
  let next = 0;
  const started = Date.now();
  const keepGoing = () => {
    const elapsed = Date.now() - started;
    if (next >= indexes.length || elapsed >= HARD_LIMIT_MS) return false;
    return elapsed < TIME_BUDGET_MS || next < MIN_REQUESTS + CORPUS.length;
  };
  const worker = async () => {
    while (keepGoing()) {
      const index = indexes[next++];
      const req = await generate(index);
      if (ONLY !== undefined) t.diagnostic(`request ${index}: ${JSON.stringify(req.head)} body ${JSON.stringify(req.body.toString('latin1').slice(0, 2000))}`);
      const verdict = judge(req, await send(req));
      sent++;
      if (verdict.status) statuses.set(verdict.status, (statuses.get(verdict.status) ?? 0) + 1);
      if (verdict.code) codes.set(verdict.code, (codes.get(verdict.code) ?? 0) + 1);
      if (verdict.problem) failures.push(`#${index} ${req.label}: ${verdict.problem}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = Date.now() - started;

  t.diagnostic(`${sent} requests in ${(elapsed / 1000).toFixed(1)} s (${Math.round(sent / (elapsed / 1000))}/s, ${CONCURRENCY} in flight)`);
  t.diagnostic(`statuses: ${statusSummary(statuses)}`);
  const refusals = new Map<string, number>();
  for (const l of server.logs) if (l.msg === 'malformed request') refusals.set(String(l.why), (refusals.get(String(l.why)) ?? 0) + 1);
  t.diagnostic(`refused by the HTTP layer: ${[...refusals].sort((a, b) => b[1] - a[1]).map(([w, n]) => `${w}×${n}`).join(' ')}`);
  t.diagnostic(`answers: ${[...codes].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([c, n]) => `${c}×${n}`).join(' ')}`);

  assert.deepEqual(failures.slice(0, 25), [], `${failures.length} bad answers (FUZZ_SEED=${SEED}); the first ones are listed`);
  if (ONLY === undefined) assert.ok(sent >= MIN_REQUESTS, `only ${sent} requests in ${HARD_LIMIT_MS} ms; at least ${MIN_REQUESTS} expected`);

  // The server is up and well.
  assert.equal(server.process.exitCode, null, 'the server process exited');
  const health = await fetch(`${server.endpoint}/_amiforge/health`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(health.status, 200);
  const errors = server.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
  assert.deepEqual(errors.slice(0, 5), [], `${errors.length} error-level log entries`);

  // Nothing changed.
  assert.deepEqual(storeState(server.dataDir), storeBefore, 'the database or block files changed');
  assert.deepEqual(await apiState(), apiBefore, 'what the API reports changed');
});
