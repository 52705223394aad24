// The image APIs through the aws CLI (v1), as a user types them: shorthand syntax, --filters,
// --query, the CLI's own paginator (--page-size, --max-items, --starting-token), sharing between
// accounts, tags, regions and zones, and errors as the CLI prints them. Dev mode: the access key
// id is the account.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeImagesCommand, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { awsCli, devCredentials, ec2Client, type CliResult } from '../support/clients.ts';
import { startServer, type RunningServer } from '../support/server.ts';

// Each suite has its own accounts, so the suites can run side by side (CLI calls are slow).
const OWNER = '111111111111';
const OTHER = '222222222222';
const AMI_ID = /^ami-[0-9a-f]{17}$/;

let server: RunningServer;

/** `aws ec2 <args>` as `account`. */
const ec2 = (account: string, ...args: string[]): Promise<CliResult> =>
  awsCli(server.endpoint, devCredentials(account), ['ec2', ...args]);

/** Runs the command, which must succeed; returns its parsed JSON output. */
async function ok(result: Promise<CliResult>): Promise<any> {
  const r = await result;
  assert.equal(r.code, 0, `aws exited ${r.code}: ${r.stderr}`);
  return r.json;
}

/**
 * The command must fail with `code`, printed the way the CLI prints service errors:
 * `An error occurred (Code) when calling the Operation operation: message`.
 */
async function fails(result: Promise<CliResult>, code: string, operation: string): Promise<string> {
  const r = await result;
  assert.notEqual(r.code, 0, `expected ${code}, but aws succeeded: ${r.stdout}`);
  const prefix = `An error occurred (${code}) when calling the ${operation} operation: `;
  assert.ok(r.stderr.includes(prefix), `stderr should contain "${prefix}", got: ${r.stderr}`);
  assert.equal(r.stdout, '');
  return r.stderr.slice(r.stderr.indexOf(prefix) + prefix.length).trim();
}

/** A completed 8 GiB snapshot of `account`'s, made through the EBS direct APIs with the CLI. */
async function snapshotOf(account: string): Promise<string> {
  const cli = (...args: string[]) => awsCli(server.endpoint, devCredentials(account), ['ebs', ...args]);
  const started = await ok(cli('start-snapshot', '--volume-size', '8', '--timeout', '60'));
  assert.match(started.SnapshotId, /^snap-[0-9a-f]{17}$/);
  await ok(cli('complete-snapshot', '--snapshot-id', started.SnapshotId, '--changed-blocks-count', '0'));
  return started.SnapshotId;
}

const snapshots = new Map<string, Promise<string>>();
const snapshotFor = (account: string): Promise<string> => {
  if (!snapshots.has(account)) snapshots.set(account, snapshotOf(account));
  return snapshots.get(account)!;
};

/** Registers a minimal EBS-backed image with the CLI; returns its id. */
async function register(account: string, name: string, ...extra: string[]): Promise<string> {
  const snap = await snapshotFor(account);
  const out = await ok(ec2(account, 'register-image', '--name', name, '--root-device-name', '/dev/xvda',
    '--block-device-mappings', `DeviceName=/dev/xvda,Ebs={SnapshotId=${snap}}`, ...extra));
  assert.match(out.ImageId, AMI_ID);
  return out.ImageId;
}

const idsOf = (out: { Images: { ImageId: string }[] }): string[] => out.Images.map((i) => i.ImageId).sort();

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe('images through the aws CLI', { concurrency: true }, () => {
  describe('register-image and describe-images', { concurrency: false }, () => {
    let webId: string;
    let snap: string;

    before(async () => {
      snap = await snapshotFor(OWNER);
    });

    test('register-image with shorthand block-device mappings and tag specifications', async () => {
      const out = await ok(ec2(OWNER, 'register-image',
        '--name', 'cli-web-v1',
        '--description', 'Web server built by the CLI',
        '--architecture', 'x86_64',
        '--virtualization-type', 'hvm',
        '--ena-support',
        '--root-device-name', '/dev/xvda',
        '--block-device-mappings',
        `DeviceName=/dev/xvda,Ebs={SnapshotId=${snap},VolumeSize=16,VolumeType=gp3,DeleteOnTermination=false}`,
        'DeviceName=/dev/sdb,Ebs={VolumeSize=100,VolumeType=io1,Iops=3000}',
        'DeviceName=/dev/sdc,VirtualName=ephemeral0',
        '--tag-specifications', 'ResourceType=image,Tags=[{Key=team,Value=web},{Key=stage,Value=prod}]'));
      assert.match(out.ImageId, AMI_ID);
      webId = out.ImageId;

      const { Images } = await ok(ec2(OWNER, 'describe-images', '--image-ids', webId));
      assert.equal(Images.length, 1);
      const img = Images[0];
      assert.equal(img.ImageId, webId);
      assert.equal(img.Name, 'cli-web-v1');
      assert.equal(img.Description, 'Web server built by the CLI');
      assert.equal(img.OwnerId, OWNER);
      assert.equal(img.State, 'available');
      assert.equal(img.Public, false);
      assert.equal(img.Architecture, 'x86_64');
      assert.equal(img.VirtualizationType, 'hvm');
      assert.equal(img.EnaSupport, true);
      assert.equal(img.RootDeviceType, 'ebs');
      assert.equal(img.RootDeviceName, '/dev/xvda');
      assert.equal(img.ImageLocation, `${OWNER}/cli-web-v1`);
      assert.deepEqual(img.BlockDeviceMappings, [
        { DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap, VolumeSize: 16, VolumeType: 'gp3', DeleteOnTermination: false, Encrypted: false } },
        { DeviceName: '/dev/sdb', Ebs: { VolumeSize: 100, VolumeType: 'io1', Iops: 3000, DeleteOnTermination: true, Encrypted: false } },
        { DeviceName: '/dev/sdc', VirtualName: 'ephemeral0' },
      ]);
      assert.deepEqual([...img.Tags].sort((a: { Key: string }, b: { Key: string }) => a.Key.localeCompare(b.Key)),
        [{ Key: 'stage', Value: 'prod' }, { Key: 'team', Value: 'web' }]);
    });

    test('--owners self, --filters on name wildcards and tags, and --query', async () => {
      const dbId = await register(OWNER, 'cli-db-v1', '--tag-specifications', 'ResourceType=image,Tags=[{Key=team,Value=data}]');
      const otherId = await register(OTHER, 'cli-web-v1'); // the same name in another account is fine

      const both = [webId, dbId].sort();
      // Independent read-only calls, run side by side: each CLI start-up costs a second or more.
      const expectations: [string[], string[]][] = [
        [['--owners', 'self'], both],
        // An explicit account id means the same as self for the caller.
        [['--owners', OWNER], both],
        [['--owners', 'self', '--filters', 'Name=name,Values=cli-web-*'], [webId]],
        [['--owners', 'self', '--filters', 'Name=name,Values=cli-*-v1'], both],
        [['--owners', 'self', '--filters', 'Name=name,Values=cli-?eb-v?'], [webId]],
        // Filters are case-sensitive.
        [['--owners', 'self', '--filters', 'Name=name,Values=CLI-*'], []],
        [['--owners', 'self', '--filters', 'Name=tag:team,Values=web'], [webId]],
        [['--owners', 'self', '--filters', 'Name=tag:team,Values=web,data'], both],
        [['--owners', 'self', '--filters', 'Name=tag-key,Values=stage'], [webId]],
        // Two filters AND together.
        [['--owners', 'self', '--filters', 'Name=tag:team,Values=web,data', 'Name=architecture,Values=x86_64'], [webId]],
      ];
      const results = await Promise.all(expectations.map(([args]) => ok(ec2(OWNER, 'describe-images', ...args))));
      expectations.forEach(([args, want], i) => assert.deepEqual(idsOf(results[i]), want, args.join(' ')));
      assert.deepEqual(idsOf(await ok(ec2(OTHER, 'describe-images', '--owners', 'self'))), [otherId]);

      const names = await ok(ec2(OWNER, 'describe-images', '--owners', 'self', '--query', 'sort_by(Images,&Name)[].Name'));
      assert.deepEqual(names, ['cli-db-v1', 'cli-web-v1']);
      const tagged = await ok(ec2(OWNER, 'describe-images', '--owners', 'self',
        '--query', "Images[?Tags[?Key=='team' && Value=='web']].ImageId"));
      assert.deepEqual(tagged, [webId]);
      const row = await ok(ec2(OWNER, 'describe-images', '--image-ids', webId, '--query', 'Images[0].[ImageId,Name,State]'));
      assert.deepEqual(row, [webId, 'cli-web-v1', 'available']);
    });

    test('the public catalogue answers --owners amazon', async () => {
      const out = await ok(ec2(OWNER, 'describe-images', '--owners', 'amazon', '--filters', 'Name=name,Values=al2023-ami-*'));
      assert.ok(out.Images.length >= 1);
      for (const img of out.Images) {
        assert.equal(img.ImageOwnerAlias, 'amazon');
        assert.equal(img.Public, true);
        assert.match(img.Name, /^al2023-ami-/);
      }
    });
  });

  describe('the CLI paginator', { concurrency: false }, () => {
    const account = '444444444444';
    const created: string[] = [];

    before(async () => {
      // Setup through the SDK (fast); what is under test is how the CLI pages through them.
      const c = ec2Client(server.endpoint, devCredentials(account));
      const snap = await snapshotFor(account);
      for (let i = 0; i < 15; i++) {
        const out = await c.send(new RegisterImageCommand({
          Name: `page-${String(i).padStart(2, '0')}`, RootDeviceName: '/dev/xvda',
          BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap } }],
        }));
        created.push(out.ImageId!);
      }
      created.sort();
      const check = await c.send(new DescribeImagesCommand({ Owners: ['self'] }));
      assert.equal(check.Images?.length, 15);
    });

    test('--page-size: the CLI follows NextToken and returns every image once', async () => {
      const out = await ok(ec2(account, 'describe-images', '--owners', 'self', '--page-size', '4'));
      assert.deepEqual(idsOf(out), created);
      assert.equal(out.NextToken, undefined);
      // The request log shows the pages: 15 images at 4 a page is 4 calls.
      const calls = server.logs.filter((l) => l.action === 'DescribeImages' && l.account === account && l.status === 200);
      assert.ok(calls.length >= 4, `expected at least 4 DescribeImages calls, saw ${calls.length}`);
    });

    test('--max-items and --starting-token walk every image once, across page boundaries', async () => {
      for (const [maxItems, pageSize] of [['6', '4'], ['5', '5'], ['7', '1000']]) {
        const seen: string[] = [];
        let token: string | undefined;
        let rounds = 0;
        do {
          const args = ['describe-images', '--owners', 'self', '--max-items', maxItems, '--page-size', pageSize];
          if (token) args.push('--starting-token', token);
          const out = await ok(ec2(account, ...args));
          assert.ok(out.Images.length <= Number(maxItems));
          seen.push(...out.Images.map((i: { ImageId: string }) => i.ImageId));
          token = out.NextToken;
          assert.ok(++rounds <= 10, 'the CLI paginator does not terminate');
        } while (token);
        assert.equal(rounds, Math.ceil(15 / Number(maxItems)), `--max-items ${maxItems} --page-size ${pageSize}`);
        assert.equal(new Set(seen).size, seen.length, `duplicates with --max-items ${maxItems} --page-size ${pageSize}: ${seen}`);
        assert.deepEqual([...seen].sort(), created);
      }
    });

    test('--max-items with a filter that leaves some pages empty', async () => {
      const out = await ok(ec2(account, 'describe-images', '--owners', 'self', '--filters', 'Name=name,Values=page-1*',
        '--page-size', '3'));
      assert.deepEqual(out.Images.map((i: { Name: string }) => i.Name).sort(), ['page-10', 'page-11', 'page-12', 'page-13', 'page-14']);
    });

    test('--page-size outside 1 to 1000 is AWS\'s InvalidParameterValue', async () => {
      const message = await fails(ec2(account, 'describe-images', '--owners', 'self', '--page-size', '1001'),
        'InvalidParameterValue', 'DescribeImages');
      assert.match(message, /maxResults/);
    });
  });

  describe('modify-image-attribute: sharing with an account and with everyone', { concurrency: false }, () => {
    const OWNER = '555555555555';
    const OTHER = '666666666666';
    const THIRD = '777777777777';
    let imageId: string;

    before(async () => {
      imageId = await register(OWNER, 'cli-shared');
    });

    test('Add=[{UserId=...}] lets the other account see and describe the image', async () => {
      await fails(ec2(OTHER, 'describe-images', '--image-ids', imageId), 'InvalidAMIID.NotFound', 'DescribeImages');
      assert.ok(!idsOf(await ok(ec2(OTHER, 'describe-images', '--executable-users', 'self'))).includes(imageId));

      const out = await ec2(OWNER, 'modify-image-attribute', '--image-id', imageId, '--launch-permission', `Add=[{UserId=${OTHER}}]`);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout.trim(), '');

      const attr = await ok(ec2(OWNER, 'describe-image-attribute', '--image-id', imageId, '--attribute', 'launchPermission'));
      assert.deepEqual(attr, { ImageId: imageId, LaunchPermissions: [{ UserId: OTHER }] });

      const seen = await ok(ec2(OTHER, 'describe-images', '--image-ids', imageId));
      assert.equal(seen.Images[0].OwnerId, OWNER);
      assert.equal(seen.Images[0].Public, false);
      assert.ok(idsOf(await ok(ec2(OTHER, 'describe-images', '--executable-users', 'self'))).includes(imageId));
      assert.ok(!idsOf(await ok(ec2(OTHER, 'describe-images', '--owners', 'self'))).includes(imageId));
      assert.ok(idsOf(await ok(ec2(OTHER, 'describe-images', '--owners', OWNER))).includes(imageId));
      // A third account still cannot.
      await fails(ec2(THIRD, 'describe-images', '--image-ids', imageId), 'InvalidAMIID.NotFound', 'DescribeImages');
    });

    test('the account it is shared with cannot change or deregister it', async () => {
      await fails(ec2(OTHER, 'modify-image-attribute', '--image-id', imageId, '--launch-permission', `Add=[{UserId=${THIRD}}]`),
        'AuthFailure', 'ModifyImageAttribute');
      await fails(ec2(OTHER, 'deregister-image', '--image-id', imageId), 'AuthFailure', 'DeregisterImage');
      const attr = await ok(ec2(OWNER, 'describe-image-attribute', '--image-id', imageId, '--attribute', 'launchPermission'));
      assert.deepEqual(attr.LaunchPermissions, [{ UserId: OTHER }]);
    });

    test('Add=[{Group=all}] makes it public: --executable-users all and is-public see it', async () => {
      assert.ok(!idsOf(await ok(ec2(THIRD, 'describe-images', '--executable-users', 'all'))).includes(imageId));
      await ok(ec2(OWNER, 'modify-image-attribute', '--image-id', imageId, '--launch-permission', 'Add=[{Group=all}]'));

      const seen = await ok(ec2(THIRD, 'describe-images', '--image-ids', imageId));
      assert.equal(seen.Images[0].Public, true);
      assert.ok(idsOf(await ok(ec2(THIRD, 'describe-images', '--executable-users', 'all'))).includes(imageId));
      assert.ok(idsOf(await ok(ec2(THIRD, 'describe-images', '--filters', 'Name=is-public,Values=true', 'Name=owner-id,Values=' + OWNER)))
        .includes(imageId));
      const attr = await ok(ec2(OWNER, 'describe-image-attribute', '--image-id', imageId, '--attribute', 'launchPermission'));
      assert.deepEqual([...attr.LaunchPermissions].sort((a: object, b: object) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
        [{ Group: 'all' }, { UserId: OTHER }]);
    });

    test('Remove takes the permissions away again', async () => {
      await ok(ec2(OWNER, 'modify-image-attribute', '--image-id', imageId, '--launch-permission', `Remove=[{Group=all},{UserId=${OTHER}}]`));
      await fails(ec2(THIRD, 'describe-images', '--image-ids', imageId), 'InvalidAMIID.NotFound', 'DescribeImages');
      await fails(ec2(OTHER, 'describe-images', '--image-ids', imageId), 'InvalidAMIID.NotFound', 'DescribeImages');
      const attr = await ok(ec2(OWNER, 'describe-image-attribute', '--image-id', imageId, '--attribute', 'launchPermission'));
      assert.deepEqual(attr.LaunchPermissions, []);
    });

    test('the older --operation-type/--user-ids form, and a malformed account id', async () => {
      await ok(ec2(OWNER, 'modify-image-attribute', '--image-id', imageId, '--attribute', 'launchPermission',
        '--operation-type', 'add', '--user-ids', OTHER));
      assert.equal((await ok(ec2(OTHER, 'describe-images', '--image-ids', imageId))).Images[0].ImageId, imageId);
      await ok(ec2(OWNER, 'reset-image-attribute', '--image-id', imageId, '--attribute', 'launchPermission'));
      await fails(ec2(OTHER, 'describe-images', '--image-ids', imageId), 'InvalidAMIID.NotFound', 'DescribeImages');
      await fails(ec2(OWNER, 'modify-image-attribute', '--image-id', imageId, '--launch-permission', 'Add=[{UserId=12345}]'),
        'InvalidAMIAttributeItemValue', 'ModifyImageAttribute');
    });
  });

  describe('create-tags, describe-tags and delete-tags', { concurrency: false }, () => {
    const OWNER = '888888888888';
    const OTHER = '999999999999';
    let imageId: string;

    before(async () => {
      imageId = await register(OWNER, 'cli-tagged');
    });

    const tagsOf = async (account: string, id: string) =>
      (await ok(ec2(account, 'describe-tags', '--filters', `Name=resource-id,Values=${id}`))).Tags;

    test('create-tags then describe-tags by resource, key and value', async () => {
      const out = await ec2(OWNER, 'create-tags', '--resources', imageId, '--tags', 'Key=env,Value=dev', 'Key=owner,Value=', 'Key=cost-center,Value=42');
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(await tagsOf(OWNER, imageId), [
        { ResourceId: imageId, ResourceType: 'image', Key: 'cost-center', Value: '42' },
        { ResourceId: imageId, ResourceType: 'image', Key: 'env', Value: 'dev' },
        { ResourceId: imageId, ResourceType: 'image', Key: 'owner', Value: '' },
      ]);
      const byKey = await ok(ec2(OWNER, 'describe-tags', '--filters', 'Name=key,Values=env', 'Name=resource-type,Values=image'));
      assert.deepEqual(byKey.Tags, [{ ResourceId: imageId, ResourceType: 'image', Key: 'env', Value: 'dev' }]);
      const byValue = await ok(ec2(OWNER, 'describe-tags', '--filters', 'Name=value,Values=4*', '--query', 'Tags[].Key'));
      assert.deepEqual(byValue, ['cost-center']);
      // The image shows them too, and describe-images filters on them.
      assert.deepEqual(idsOf(await ok(ec2(OWNER, 'describe-images', '--filters', 'Name=tag:env,Values=dev'))), [imageId]);
      // Tags are the tagging account's own: another account sees none.
      assert.deepEqual((await ok(ec2(OTHER, 'describe-tags'))).Tags, []);
    });

    test('create-tags overwrites a value; delete-tags by key, and by key and value', async () => {
      await ok(ec2(OWNER, 'create-tags', '--resources', imageId, '--tags', 'Key=env,Value=prod'));
      assert.equal((await tagsOf(OWNER, imageId)).find((t: { Key: string }) => t.Key === 'env').Value, 'prod');

      await ok(ec2(OWNER, 'delete-tags', '--resources', imageId, '--tags', 'Key=owner'));
      // A value that does not match leaves the tag alone.
      await ok(ec2(OWNER, 'delete-tags', '--resources', imageId, '--tags', 'Key=env,Value=dev'));
      assert.deepEqual((await tagsOf(OWNER, imageId)).map((t: { Key: string }) => t.Key), ['cost-center', 'env']);
      await ok(ec2(OWNER, 'delete-tags', '--resources', imageId, '--tags', 'Key=env,Value=prod'));
      assert.deepEqual((await tagsOf(OWNER, imageId)).map((t: { Key: string }) => t.Key), ['cost-center']);
      // No --tags: every tag on the resource.
      await ok(ec2(OWNER, 'delete-tags', '--resources', imageId));
      assert.deepEqual(await tagsOf(OWNER, imageId), []);
    });

    test('tag errors: an unknown image, a reserved key', async () => {
      await fails(ec2(OWNER, 'create-tags', '--resources', 'ami-00000000000000000', '--tags', 'Key=a,Value=b'),
        'InvalidAMIID.NotFound', 'CreateTags');
      await fails(ec2(OWNER, 'create-tags', '--resources', imageId, '--tags', 'Key=aws:reserved,Value=b'),
        'InvalidParameterValue', 'CreateTags');
      assert.deepEqual(await tagsOf(OWNER, imageId), []);
    });
  });

  describe('deregister-image', { concurrency: false }, () => {
    const OWNER = '101010101010';
    test('the image is gone afterwards, and a second deregister is NotFound', async () => {
      const id = await register(OWNER, 'cli-short-lived', '--tag-specifications', 'ResourceType=image,Tags=[{Key=k,Value=v}]');
      const out = await ec2(OWNER, 'deregister-image', '--image-id', id);
      assert.equal(out.code, 0, out.stderr);
      await fails(ec2(OWNER, 'describe-images', '--image-ids', id), 'InvalidAMIID.NotFound', 'DescribeImages');
      assert.ok(!idsOf(await ok(ec2(OWNER, 'describe-images', '--owners', 'self'))).includes(id));
      assert.deepEqual((await ok(ec2(OWNER, 'describe-tags', '--filters', `Name=resource-id,Values=${id}`))).Tags, []);
      await fails(ec2(OWNER, 'deregister-image', '--image-id', id), 'InvalidAMIID.NotFound', 'DeregisterImage');
      // The name is free again.
      await register(OWNER, 'cli-short-lived');
    });
  });

  describe('describe-regions and describe-availability-zones', { concurrency: false }, () => {
    test('describe-regions: the default list, --all-regions, --region-names and --query', async () => {
      const names: string[] = await ok(ec2(OWNER, 'describe-regions', '--query', 'Regions[].RegionName'));
      assert.ok(names.includes('us-east-1') && names.includes('eu-west-1'));
      assert.ok(!names.includes('af-south-1'), 'opt-in regions are listed only with --all-regions');
      const all = await ok(ec2(OWNER, 'describe-regions', '--all-regions'));
      const afSouth = all.Regions.find((r: { RegionName: string }) => r.RegionName === 'af-south-1');
      assert.deepEqual(afSouth, { RegionName: 'af-south-1', Endpoint: 'ec2.af-south-1.amazonaws.com', OptInStatus: 'not-opted-in' });
      const one = await ok(ec2(OWNER, 'describe-regions', '--region-names', 'eu-west-1'));
      assert.deepEqual(one.Regions, [{ RegionName: 'eu-west-1', Endpoint: 'ec2.eu-west-1.amazonaws.com', OptInStatus: 'opt-in-not-required' }]);
      await fails(ec2(OWNER, 'describe-regions', '--region-names', 'mars-north-1'), 'InvalidParameterValue', 'DescribeRegions');
    });

    test('describe-availability-zones follows --region', async () => {
      const east = await ok(ec2(OWNER, 'describe-availability-zones'));
      assert.deepEqual(east.AvailabilityZones.map((z: { ZoneName: string }) => z.ZoneName), ['us-east-1a', 'us-east-1b', 'us-east-1c']);
      for (const z of east.AvailabilityZones) {
        assert.equal(z.State, 'available');
        assert.equal(z.RegionName, 'us-east-1');
        assert.match(z.ZoneId, /^use1-az\d$/);
      }
      const west = await awsCli(server.endpoint, devCredentials(OWNER),
        ['ec2', 'describe-availability-zones', '--query', 'AvailabilityZones[].ZoneName'], 'eu-west-1');
      assert.equal(west.code, 0, west.stderr);
      assert.deepEqual(west.json, ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
      const filtered = await ok(ec2(OWNER, 'describe-availability-zones', '--filters', 'Name=zone-name,Values=*b'));
      assert.deepEqual(filtered.AvailabilityZones.map((z: { ZoneName: string }) => z.ZoneName), ['us-east-1b']);
    });
  });

  describe('errors as the CLI shows them', { concurrency: false }, () => {
    const OWNER = '121212121212';

    test('a malformed image id: InvalidAMIID.Malformed, non-zero exit', async () => {
      const message = await fails(ec2(OWNER, 'describe-images', '--image-ids', 'ami-12345'), 'InvalidAMIID.Malformed', 'DescribeImages');
      assert.match(message, /ami-12345/);
    });

    test('an image that does not exist: InvalidAMIID.NotFound', async () => {
      const message = await fails(ec2(OWNER, 'describe-images', '--image-ids', 'ami-0123456789abcdef0'), 'InvalidAMIID.NotFound', 'DescribeImages');
      assert.match(message, /ami-0123456789abcdef0/);
    });

    test('--dry-run: DryRunOperation, and nothing is created', async () => {
      await fails(ec2(OWNER, 'describe-images', '--owners', 'self', '--dry-run'), 'DryRunOperation', 'DescribeImages');
      const snap = await snapshotFor(OWNER);
      await fails(ec2(OWNER, 'register-image', '--name', 'cli-dry-run', '--root-device-name', '/dev/xvda',
        '--block-device-mappings', `DeviceName=/dev/xvda,Ebs={SnapshotId=${snap}}`, '--dry-run'), 'DryRunOperation', 'RegisterImage');
      assert.deepEqual((await ok(ec2(OWNER, 'describe-images', '--owners', 'self', '--filters', 'Name=name,Values=cli-dry-run'))).Images, []);
      const id = await register(OWNER, 'cli-dry-run-target');
      await fails(ec2(OWNER, 'deregister-image', '--image-id', id, '--dry-run'), 'DryRunOperation', 'DeregisterImage');
      await fails(ec2(OWNER, 'create-tags', '--resources', id, '--tags', 'Key=a,Value=b', '--dry-run'), 'DryRunOperation', 'CreateTags');
      const still = await ok(ec2(OWNER, 'describe-images', '--image-ids', id));
      assert.equal(still.Images[0].Tags, undefined);
    });

    test('a name already in use by the account: InvalidAMIName.Duplicate', async () => {
      await register(OWNER, 'cli-unique-name');
      const message = await fails(ec2(OWNER, 'register-image', '--name', 'cli-unique-name', '--root-device-name', '/dev/xvda',
        '--block-device-mappings', `DeviceName=/dev/xvda,Ebs={SnapshotId=${await snapshotFor(OWNER)}}`),
      'InvalidAMIName.Duplicate', 'RegisterImage');
      assert.match(message, /cli-unique-name/);
      const named = await ok(ec2(OWNER, 'describe-images', '--owners', 'self', '--filters', 'Name=name,Values=cli-unique-name'));
      assert.equal(named.Images.length, 1);
    });

    test('a filter the operation does not know, and an invalid name', async () => {
      await fails(ec2(OWNER, 'describe-images', '--filters', 'Name=colour,Values=blue'), 'InvalidParameterValue', 'DescribeImages');
      await fails(ec2(OWNER, 'register-image', '--name', 'bad!name', '--root-device-name', '/dev/xvda',
        '--block-device-mappings', `DeviceName=/dev/xvda,Ebs={SnapshotId=${await snapshotFor(OWNER)}}`),
      'InvalidAMIName.Malformed', 'RegisterImage');
    });
  });
});
