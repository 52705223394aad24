// The image APIs through boto3, against a strict-mode server (real SigV4 verification, known
// accounts and keys): register, describe with filters, the describe_images paginator, the
// image_available and image_exists waiters, sharing with another account and with everyone,
// tags, deregister, ClientError codes and HTTP statuses, wrong credentials, and isolation
// between accounts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { boto3, credentialsOf, type Credentials } from '../support/clients.ts';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount } from '../support/server.ts';

const account = (id: string, name: string): TestAccount =>
  ({ id, accessKeyId: `AKIA${name.toUpperCase().padEnd(16, '0')}`, secretAccessKey: `${name}-secret-key-${'0'.repeat(24)}` });
const CAROL = account('333333333333', 'carol');
// Suites run side by side; those that list "my images" have an account of their own.
const DAVE = account('444444444444', 'dave');
const ERIN = account('555555555555', 'erin');

let server: RunningServer;

/**
 * Helpers every snippet gets after the client helper's own prelude (which defines `ec2`):
 * `out(x)` prints JSON, `error(fn, **kw)` returns a ClientError's code, message, HTTP status
 * and request id (or None when the call succeeds), `register(name, **kw)` registers an
 * EBS-backed image on a fresh completed snapshot made through the EBS direct APIs.
 */
const PRELUDE = `
def out(x):
    print(json.dumps(x, default=str))

def error(fn, **kw):
    try:
        fn(**kw)
        return None
    except botocore.exceptions.ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                "requestId": e.response["ResponseMetadata"].get("RequestId")}

def snapshot():
    ebs = boto3.client("ebs", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))
    snap = ebs.start_snapshot(VolumeSize=8, Timeout=60)["SnapshotId"]
    ebs.complete_snapshot(SnapshotId=snap, ChangedBlocksCount=0)
    return snap

def register(name, snap=None, **kw):
    snap = snap or snapshot()
    return ec2.register_image(Name=name, RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}], **kw)["ImageId"]

def ids(resp):
    return sorted(i["ImageId"] for i in resp["Images"])
`;

/** Runs `script` (Python, any indentation) as `account`; returns what it printed, parsed. */
async function py(account: TestAccount | Credentials, script: string): Promise<any> {
  const credentials = 'id' in account ? credentialsOf(account) : account;
  const lines = script.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  const body = lines.map((l) => l.slice(indent)).join('\n');
  const r = await boto3(server.endpoint, credentials, `${PRELUDE}\n${body}`);
  assert.equal(r.code, 0, `python exited ${r.code}:\n${r.stderr}`);
  return r.json;
}

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB, CAROL, DAVE, ERIN] });
});
after(async () => {
  await server?.stop();
});

describe('images through boto3 (strict mode)', { concurrency: true }, () => {
  describe('register_image and describe_images', { concurrency: false }, () => {
    test('register with mappings and tags, then describe by id, owner, name wildcard and tag', async () => {
      const r = await py(DAVE, `
        snap = snapshot()
        web = ec2.register_image(
            Name="boto-web-v1", Description="web tier", Architecture="arm64", VirtualizationType="hvm",
            RootDeviceName="/dev/xvda", BootMode="uefi",
            BlockDeviceMappings=[
                {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap, "VolumeSize": 20, "VolumeType": "gp3"}},
                {"DeviceName": "/dev/sdb", "NoDevice": ""},
            ],
            TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "tier", "Value": "web"}]}],
        )["ImageId"]
        db = register("boto-db-v1", snap, TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "tier", "Value": "db"}]}])
        out({
            "snap": snap, "web": web, "db": db,
            "image": ec2.describe_images(ImageIds=[web])["Images"][0],
            "self": ids(ec2.describe_images(Owners=["self"])),
            "byName": ids(ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": ["boto-web-*"]}])),
            "byTag": ids(ec2.describe_images(Filters=[{"Name": "tag:tier", "Values": ["db"]}])),
            "byTwo": ids(ec2.describe_images(Owners=["self"], Filters=[
                {"Name": "tag:tier", "Values": ["web", "db"]}, {"Name": "architecture", "Values": ["arm64"]}])),
            "none": ids(ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": ["BOTO-*"]}])),
        })
      `);
      const { web, db, snap, image } = r;
      assert.match(web, /^ami-[0-9a-f]{17}$/);
      assert.equal(image.ImageId, web);
      assert.equal(image.Name, 'boto-web-v1');
      assert.equal(image.Description, 'web tier');
      assert.equal(image.OwnerId, DAVE.id);
      assert.equal(image.Architecture, 'arm64');
      assert.equal(image.BootMode, 'uefi');
      assert.equal(image.State, 'available');
      assert.equal(image.Public, false);
      assert.deepEqual(image.BlockDeviceMappings, [
        { DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap, VolumeSize: 20, VolumeType: 'gp3', DeleteOnTermination: true, Encrypted: false } },
        { DeviceName: '/dev/sdb', NoDevice: '' },
      ]);
      assert.deepEqual(image.Tags, [{ Key: 'tier', Value: 'web' }]);
      assert.deepEqual(r.self, [web, db].sort());
      assert.deepEqual(r.byName, [web]);
      assert.deepEqual(r.byTag, [db]);
      assert.deepEqual(r.byTwo, [web]);
      assert.deepEqual(r.none, []);
    });

    test('the describe_images paginator sees every image once', async () => {
      const r = await py(CAROL, `
        snap = snapshot()
        made = sorted(register("boto-page-%02d" % i, snap) for i in range(12))
        pages = list(ec2.get_paginator("describe_images").paginate(Owners=["self"], PaginationConfig={"PageSize": 5}))
        first = ec2.get_paginator("describe_images").paginate(
            Owners=["self"], PaginationConfig={"PageSize": 4, "MaxItems": 7}).build_full_result()
        rest = ec2.get_paginator("describe_images").paginate(
            Owners=["self"], PaginationConfig={"PageSize": 4, "StartingToken": first["NextToken"]}).build_full_result()
        out({
            "made": made,
            "pageSizes": [len(p["Images"]) for p in pages],
            "paged": [i["ImageId"] for p in pages for i in p["Images"]],
            "first": [i["ImageId"] for i in first["Images"]],
            "rest": [i["ImageId"] for i in rest["Images"]],
            "restToken": rest.get("NextToken"),
        })
      `);
      assert.equal(r.made.length, 12);
      assert.deepEqual(r.pageSizes, [5, 5, 2]);
      assert.deepEqual([...r.paged].sort(), r.made);
      assert.equal(new Set(r.paged).size, 12);
      assert.equal(r.first.length, 7);
      assert.deepEqual([...r.first, ...r.rest].sort(), r.made);
      assert.equal(r.restToken, null);
    });

    test('the image_available and image_exists waiters', async () => {
      const r = await py(DAVE, `
        from botocore.exceptions import WaiterError
        image = register("boto-waited")
        ec2.get_waiter("image_available").wait(ImageIds=[image], WaiterConfig={"Delay": 1, "MaxAttempts": 3})
        ec2.get_waiter("image_exists").wait(ImageIds=[image], WaiterConfig={"Delay": 1, "MaxAttempts": 3})
        missing = None
        try:
            ec2.get_waiter("image_exists").wait(ImageIds=["ami-00000000000000000"], WaiterConfig={"Delay": 1, "MaxAttempts": 2})
        except WaiterError as e:
            missing = {"reason": str(e), "code": e.last_response.get("Error", {}).get("Code")}
        out({"state": ec2.describe_images(ImageIds=[image])["Images"][0]["State"], "missing": missing})
      `);
      assert.equal(r.state, 'available');
      assert.ok(r.missing, 'image_exists on a missing image must give up');
      assert.equal(r.missing.code, 'InvalidAMIID.NotFound');
      assert.match(r.missing.reason, /Max attempts exceeded/);
    });
  });

  describe('sharing between accounts', { concurrency: false }, () => {
    let imageId: string;

    before(async () => {
      imageId = (await py(ALICE, 'out(register("boto-shared"))'));
    });

    test('shared with BOB: BOB sees it, CAROL does not', async () => {
      const before = await py(BOB, `out(error(ec2.describe_images, ImageIds=["${imageId}"]))`);
      assert.equal(before.code, 'InvalidAMIID.NotFound');

      await py(ALICE, `
        ec2.modify_image_attribute(ImageId="${imageId}", LaunchPermission={"Add": [{"UserId": "${BOB.id}"}]})
        out(None)
      `);
      const alice = await py(ALICE, `out(ec2.describe_image_attribute(ImageId="${imageId}", Attribute="launchPermission")["LaunchPermissions"])`);
      assert.deepEqual(alice, [{ UserId: BOB.id }]);

      const bob = await py(BOB, `
        out({
            "image": ec2.describe_images(ImageIds=["${imageId}"])["Images"][0],
            "executable": ids(ec2.describe_images(ExecutableUsers=["self"])),
            "self": ids(ec2.describe_images(Owners=["self"])),
            "modify": error(ec2.modify_image_attribute, ImageId="${imageId}", LaunchPermission={"Add": [{"UserId": "${CAROL.id}"}]}),
            "deregister": error(ec2.deregister_image, ImageId="${imageId}"),
        })
      `);
      assert.equal(bob.image.OwnerId, ALICE.id);
      assert.equal(bob.image.Public, false);
      assert.ok(bob.executable.includes(imageId));
      assert.ok(!bob.self.includes(imageId));
      assert.equal(bob.modify.code, 'AuthFailure');
      assert.equal(bob.deregister.code, 'AuthFailure');

      const carol = await py(CAROL, `out(error(ec2.describe_images, ImageIds=["${imageId}"]))`);
      assert.equal(carol.code, 'InvalidAMIID.NotFound');
    });

    test('public: every account sees it with ExecutableUsers=["all"]', async () => {
      await py(ALICE, `
        ec2.modify_image_attribute(ImageId="${imageId}", LaunchPermission={"Add": [{"Group": "all"}]})
        out(None)
      `);
      const carol = await py(CAROL, `
        out({
            "image": ec2.describe_images(ImageIds=["${imageId}"])["Images"][0],
            "all": ids(ec2.describe_images(ExecutableUsers=["all"])),
            "public": ids(ec2.describe_images(Filters=[{"Name": "is-public", "Values": ["true"]}, {"Name": "owner-id", "Values": ["${ALICE.id}"]}])),
        })
      `);
      assert.equal(carol.image.Public, true);
      assert.ok(carol.all.includes(imageId));
      assert.deepEqual(carol.public, [imageId]);

      await py(ALICE, `
        ec2.modify_image_attribute(ImageId="${imageId}", LaunchPermission={"Remove": [{"Group": "all"}, {"UserId": "${BOB.id}"}]})
        out(None)
      `);
      const gone = await py(CAROL, `out(error(ec2.describe_images, ImageIds=["${imageId}"]))`);
      assert.equal(gone.code, 'InvalidAMIID.NotFound');
    });
  });

  describe('tags and deregister', { concurrency: false }, () => {
    test('create_tags, describe_tags, delete_tags, then deregister_image', async () => {
      const r = await py(BOB, `
        image = register("boto-tagged")
        ec2.create_tags(Resources=[image], Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "infra"}])
        described = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [image]}])["Tags"]
        on_image = ec2.describe_images(ImageIds=[image])["Images"][0]["Tags"]
        ec2.delete_tags(Resources=[image], Tags=[{"Key": "env"}])
        after_delete = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [image]}])["Tags"]
        dereg = ec2.deregister_image(ImageId=image)
        out({
            "image": image, "described": described, "onImage": sorted(on_image, key=lambda t: t["Key"]),
            "afterDelete": after_delete, "deregStatus": dereg["ResponseMetadata"]["HTTPStatusCode"],
            "gone": error(ec2.describe_images, ImageIds=[image]),
            "again": error(ec2.deregister_image, ImageId=image),
            "tagsGone": ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [image]}])["Tags"],
        })
      `);
      assert.deepEqual(r.described, [
        { ResourceId: r.image, ResourceType: 'image', Key: 'env', Value: 'dev' },
        { ResourceId: r.image, ResourceType: 'image', Key: 'team', Value: 'infra' },
      ]);
      assert.deepEqual(r.onImage, [{ Key: 'env', Value: 'dev' }, { Key: 'team', Value: 'infra' }]);
      assert.deepEqual(r.afterDelete, [{ ResourceId: r.image, ResourceType: 'image', Key: 'team', Value: 'infra' }]);
      assert.equal(r.deregStatus, 200);
      assert.equal(r.gone.code, 'InvalidAMIID.NotFound');
      assert.equal(r.again.code, 'InvalidAMIID.NotFound');
      assert.deepEqual(r.tagsGone, []);
    });
  });

  describe('ClientError codes and HTTP statuses', { concurrency: false }, () => {
    test('NotFound, Malformed, DryRunOperation, MissingParameter, InvalidParameterValue', async () => {
      const r = await py(ERIN, `
        raw = boto3.client("ec2", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}, parameter_validation=False))
        snap = snapshot()
        out({
            "notFound": error(ec2.describe_images, ImageIds=["ami-0123456789abcdef0"]),
            "malformed": error(ec2.describe_images, ImageIds=["ami-nope"]),
            "dryRunDescribe": error(ec2.describe_images, Owners=["self"], DryRun=True),
            "dryRunRegister": error(ec2.register_image, Name="boto-dry-run", RootDeviceName="/dev/xvda",
                BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}], DryRun=True),
            "dryRunLeftNothing": ids(ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": ["boto-dry-run"]}])),
            "missingName": error(raw.register_image, RootDeviceName="/dev/xvda"),
            "missingImageId": error(raw.deregister_image),
            "badFilter": error(ec2.describe_images, Filters=[{"Name": "colour", "Values": ["blue"]}]),
            "badMaxResults": error(ec2.describe_images, Owners=["self"], MaxResults=5000),
            "badAttribute": error(raw.describe_image_attribute, ImageId="ami-0123456789abcdef0", Attribute="colour"),
        })
      `);
      const expect = (got: { code: string; status: number; message: string; requestId?: string }, code: string, status: number) => {
        assert.ok(got, `expected ${code}, but the call succeeded`);
        assert.equal(got.code, code);
        assert.equal(got.status, status, `HTTP status of ${code}`);
        assert.ok(got.message.length > 0, `${code} has a message`);
        assert.match(got.requestId ?? '', /^[0-9a-f-]{36}$/, `${code} carries the request id`);
      };
      expect(r.notFound, 'InvalidAMIID.NotFound', 400);
      assert.equal(r.notFound.message, "The image id '[ami-0123456789abcdef0]' does not exist");
      expect(r.malformed, 'InvalidAMIID.Malformed', 400);
      assert.match(r.malformed.message, /ami-nope/);
      expect(r.dryRunDescribe, 'DryRunOperation', 412);
      expect(r.dryRunRegister, 'DryRunOperation', 412);
      assert.equal(r.dryRunRegister.message, 'Request would have succeeded, but DryRun flag is set.');
      assert.deepEqual(r.dryRunLeftNothing, []);
      expect(r.missingName, 'MissingParameter', 400);
      assert.match(r.missingName.message, /Name/);
      expect(r.missingImageId, 'MissingParameter', 400);
      expect(r.badFilter, 'InvalidParameterValue', 400);
      assert.match(r.badFilter.message, /colour/);
      expect(r.badMaxResults, 'InvalidParameterValue', 400);
      expect(r.badAttribute, 'InvalidParameterValue', 400);
      const again = await py(ERIN, `
        snap = snapshot()
        register("boto-dup-name", snap)
        out(error(ec2.register_image, Name="boto-dup-name", RootDeviceName="/dev/xvda",
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}]))
      `);
      expect(again, 'InvalidAMIName.Duplicate', 400);
      assert.match(again.message, /boto-dup-name/);
    });
  });

  describe('strict mode: credentials and account isolation', { concurrency: false }, () => {
    let privateId: string;

    before(async () => {
      privateId = await py(ALICE, 'out(register("boto-alice-private"))');
    });

    test('a wrong secret is SignatureDoesNotMatch, an unknown key AuthFailure, and neither changes anything', async () => {
      const wrongSecret: Credentials = { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-alices-secret-000000000000000000000' };
      const unknownKey: Credentials = { accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: ALICE.secretAccessKey };
      const attempt = `
        out({
            "register": error(ec2.register_image, Name="boto-forged", RootDeviceName="/dev/xvda",
                BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0123456789abcdef0"}}]),
            "tag": error(ec2.create_tags, Resources=["${privateId}"], Tags=[{"Key": "forged", "Value": "yes"}]),
            "share": error(ec2.modify_image_attribute, ImageId="${privateId}", LaunchPermission={"Add": [{"Group": "all"}]}),
            "deregister": error(ec2.deregister_image, ImageId="${privateId}"),
            "describe": error(ec2.describe_images, Owners=["self"]),
        })
      `;
      const wrong = await py(wrongSecret, attempt);
      for (const [op, e] of Object.entries(wrong) as [string, { code: string; status: number }][]) {
        assert.equal(e?.code, 'SignatureDoesNotMatch', `${op} with a wrong secret`);
        assert.equal(e.status, 403);
      }
      const unknown = await py(unknownKey, attempt);
      for (const [op, e] of Object.entries(unknown) as [string, { code: string; status: number }][]) {
        assert.equal(e?.code, 'AuthFailure', `${op} with an unknown access key`);
        assert.equal(e.status, 401);
      }
      const state = await py(ALICE, `
        out({
            "image": ec2.describe_images(ImageIds=["${privateId}"])["Images"][0],
            "forged": ids(ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": ["boto-forged"]}])),
            "perms": ec2.describe_image_attribute(ImageId="${privateId}", Attribute="launchPermission")["LaunchPermissions"],
        })
      `);
      assert.equal(state.image.Public, false);
      assert.equal(state.image.Tags, undefined);
      assert.deepEqual(state.forged, []);
      assert.deepEqual(state.perms, []);
    });

    test('another account can neither see nor change a private image', async () => {
      const bob = await py(BOB, `
        out({
            "describe": error(ec2.describe_images, ImageIds=["${privateId}"]),
            "listed": "${privateId}" in ids(ec2.describe_images()),
            "listedByOwner": ids(ec2.describe_images(Owners=["${ALICE.id}"])),
            "attribute": error(ec2.describe_image_attribute, ImageId="${privateId}", Attribute="launchPermission"),
            "share": error(ec2.modify_image_attribute, ImageId="${privateId}", LaunchPermission={"Add": [{"UserId": "${BOB.id}"}]}),
            "reset": error(ec2.reset_image_attribute, ImageId="${privateId}", Attribute="launchPermission"),
            "tag": error(ec2.create_tags, Resources=["${privateId}"], Tags=[{"Key": "mine", "Value": "now"}]),
            "untag": error(ec2.delete_tags, Resources=["${privateId}"]),
            "deregister": error(ec2.deregister_image, ImageId="${privateId}"),
        })
      `);
      for (const op of ['describe', 'attribute', 'share', 'reset', 'tag', 'untag', 'deregister']) {
        assert.equal(bob[op]?.code, 'InvalidAMIID.NotFound', `BOB's ${op} of ALICE's private image`);
      }
      assert.equal(bob.listed, false);
      assert.ok(!bob.listedByOwner.includes(privateId));
      const alice = await py(ALICE, `
        img = ec2.describe_images(ImageIds=["${privateId}"])["Images"][0]
        out({"public": img["Public"], "tags": img.get("Tags"),
             "perms": ec2.describe_image_attribute(ImageId="${privateId}", Attribute="launchPermission")["LaunchPermissions"]})
      `);
      assert.deepEqual(alice, { public: false, tags: null, perms: [] });
    });
  });
});
