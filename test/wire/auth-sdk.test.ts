// Strict mode through the AWS SDK for JavaScript v3: SigV4 is verified against the accounts file,
// the credential scope must name a real region, and each account sees only what it may.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeImagesCommand, DescribeRegionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { expectAwsError, registerEbs, signedEc2Post } from '../support/sdk.ts';

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  alice = ec2Client(server.endpoint, credentialsOf(ALICE));
  bob = ec2Client(server.endpoint, credentialsOf(BOB));
});
after(async () => {
  await server?.stop();
});

describe('strict-mode authentication', () => {
  test('the right key and secret are accepted', async () => {
    const out = await alice.send(new DescribeRegionsCommand({ RegionNames: ['us-east-1'] }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(out.Regions!.map((r) => r.RegionName), ['us-east-1']);
  });

  test('a wrong secret is SignatureDoesNotMatch (HTTP 403), as EC2 reports a bad signature', async () => {
    const wrong = ec2Client(server.endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-alice-secret' });
    await expectAwsError(wrong.send(new DescribeImagesCommand({})), {
      name: 'SignatureDoesNotMatch', status: 403,
      message: /^The request signature we calculated does not match the signature you provided/,
    });
    // Another account's secret does not work either.
    const swapped = ec2Client(server.endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: BOB.secretAccessKey });
    await expectAwsError(swapped.send(new DescribeImagesCommand({})), { name: 'SignatureDoesNotMatch', status: 403 });
  });

  test('an unknown access key is AuthFailure (HTTP 401)', async () => {
    const stranger = ec2Client(server.endpoint, { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'whatever' });
    await expectAwsError(stranger.send(new DescribeImagesCommand({})),
      { name: 'AuthFailure', status: 401, message: 'AWS was not able to validate the provided access credentials' });
    // Dev mode's "a 12-digit key id is that account" does not apply in strict mode.
    const devStyle = ec2Client(server.endpoint, { accessKeyId: ALICE.id, secretAccessKey: 'dev-mode-any-secret' });
    await expectAwsError(devStyle.send(new DescribeImagesCommand({})), { name: 'AuthFailure', status: 401 });
  });

  test('a credential scope that is not a real region is AuthFailure naming it', async () => {
    const fake = ec2Client(server.endpoint, credentialsOf(ALICE), 'xx-fake-1');
    await expectAwsError(fake.send(new DescribeImagesCommand({})),
      { name: 'AuthFailure', status: 401, message: /xx-fake-1/ });
  });

  test('a raw signed request is accepted; the same request with its body changed is SignatureDoesNotMatch', async () => {
    const form = { Action: 'DescribeRegions', Version: '2016-11-15', 'RegionName.1': 'us-east-1' };
    const res = await signedEc2Post(server.endpoint, credentialsOf(ALICE), form);
    assert.equal(res.status, 200);
    assert.match(res.body, /<regionName>us-east-1<\/regionName>/);
    const tampered = await signedEc2Post(server.endpoint, credentialsOf(ALICE), form, { sendInstead: { ...form, 'RegionName.1': 'eu-west-1' } });
    assert.equal(tampered.status, 403);
    assert.match(tampered.body, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.doesNotMatch(tampered.body, /eu-west-1/);
  });
});

describe('per-account isolation', () => {
  test('each account sees its own private images and not the other\'s', async () => {
    const a = await registerEbs(alice, 'alice-only');
    const b = await registerEbs(bob, 'bob-only');
    const ownedBy = async (c: EC2Client, owners: string[]) =>
      ((await c.send(new DescribeImagesCommand({ Owners: owners }))).Images ?? []).map((i) => i.ImageId);
    assert.deepEqual(await ownedBy(alice, ['self']), [a]);
    assert.deepEqual(await ownedBy(bob, ['self']), [b]);
    assert.deepEqual(await ownedBy(bob, [ALICE.id]), []);
    assert.deepEqual(await ownedBy(alice, [BOB.id]), []);
    const [img] = (await alice.send(new DescribeImagesCommand({ ImageIds: [a] }))).Images!;
    assert.equal(img.OwnerId, ALICE.id);
    assert.equal(img.ImageLocation, `${ALICE.id}/alice-only`);
    await expectAwsError(bob.send(new DescribeImagesCommand({ ImageIds: [a] })), { name: 'InvalidAMIID.NotFound', status: 400 });
    await expectAwsError(alice.send(new DescribeImagesCommand({ ImageIds: [b] })), { name: 'InvalidAMIID.NotFound', status: 400 });
  });
});
