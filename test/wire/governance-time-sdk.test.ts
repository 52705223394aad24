// Deprecation and deregistration protection through the AWS SDK for JavaScript v3, in strict mode,
// from the owner's side (ALICE) and another account's (BOB). Time passes through the server's
// test-only clock (POST /_amiforge/clock/advance/SECONDS, with --enable-reset), never by waiting.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeregisterImageCommand, DescribeImageAttributeCommand, DescribeImagesCommand, DisableImageDeprecationCommand,
  DisableImageDeregistrationProtectionCommand, EnableImageDeprecationCommand, EnableImageDeregistrationProtectionCommand,
  ModifyImageAttributeCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { expectAwsError, registerEbs } from '../support/sdk.ts';
import { runOne } from '../support/instances.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

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

/** Moves the server's clock forward and returns its new time. */
async function advance(seconds: number): Promise<Date> {
  const res = await server.ops(`/_amiforge/clock/advance/${seconds}`, { method: 'POST' });
  assert.equal(res.status, 200);
  return new Date((await res.json() as { now: string }).now);
}
const serverNow = () => advance(0);

const describeOne = async (c: EC2Client, id: string) => (await c.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0];
const lists = async (c: EC2Client, id: string, extra: { IncludeDeprecated?: boolean } = {}) =>
  ((await c.send(new DescribeImagesCommand(extra))).Images ?? []).some((i) => i.ImageId === id);
const shareWithBob = (id: string) => alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));

describe('deprecation', () => {
  test('DeprecateAt is rounded to the nearest minute and shown; DisableImageDeprecation removes it', async () => {
    const id = await registerEbs(alice, 'deprecate-rounding');
    const base = new Date(Math.floor((await serverNow()).getTime() / MINUTE) * MINUTE + 2 * HOUR);
    const out = await alice.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: new Date(base.getTime() + 31_000) }));
    assert.equal(out.Return, true);
    assert.equal((await describeOne(alice, id)).DeprecationTime, new Date(base.getTime() + MINUTE).toISOString());
    await alice.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: new Date(base.getTime() + 29_000) }));
    assert.equal((await describeOne(alice, id)).DeprecationTime, base.toISOString());
    assert.equal((await alice.send(new DisableImageDeprecationCommand({ ImageId: id }))).Return, true);
    assert.equal((await describeOne(alice, id)).DeprecationTime, undefined);
  });

  test('a time in the past or more than 10 years ahead is refused; a public image at most 2 years after creation', async () => {
    const id = await registerEbs(alice, 'deprecate-limits');
    const now = await serverNow();
    await expectAwsError(alice.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: new Date(now.getTime() - HOUR) })), {
      name: 'InvalidParameterValue', status: 400, message: /in the past/,
    });
    const tenYears = new Date(now);
    tenYears.setUTCFullYear(tenYears.getUTCFullYear() + 10);
    await expectAwsError(alice.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: new Date(tenYears.getTime() + HOUR) })), {
      name: 'InvalidParameterValue', status: 400, message: /at most 10 years/,
    });
    await alice.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: new Date(tenYears.getTime() - HOUR) }));
    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ Group: 'all' }] } }));
    await expectAwsError(alice.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: new Date(now.getTime() + 3 * 365 * 24 * HOUR) })), {
      name: 'InvalidParameterValue', status: 400, message: /public image can be at most 2 years after its creation date/,
    });
    await alice.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: new Date(now.getTime() + 365 * 24 * HOUR) }));
  });

  test('once deprecated, others list it only with IncludeDeprecated or by id, still launch it; the owner always sees it', async () => {
    const id = await registerEbs(alice, 'deprecate-visibility', { Architecture: 'x86_64', VirtualizationType: 'hvm' });
    await shareWithBob(id);
    const at = new Date(Math.ceil((await serverNow()).getTime() / MINUTE) * MINUTE + HOUR);
    await alice.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: at }));
    // Not deprecated yet: listed as usual.
    assert.equal(await lists(bob, id), true);

    await advance(2 * 3600);
    assert.equal(await lists(bob, id), false);
    assert.equal(await lists(bob, id, { IncludeDeprecated: true }), true);
    assert.equal((await describeOne(bob, id)).DeprecationTime, at.toISOString());
    assert.equal(await lists(alice, id), true);
    const instance = await runOne(bob, { ImageId: id });
    assert.equal(instance.ImageId, id);

    // Only the owner deprecates; another account is refused, the image unchanged.
    await expectAwsError(bob.send(new DisableImageDeprecationCommand({ ImageId: id })), { name: 'AuthFailure', status: 400 });
    await expectAwsError(bob.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: new Date(Date.now() + 365 * 24 * HOUR) })), {
      name: 'AuthFailure', status: 400, message: `Not authorized for image:${id}`,
    });
    await alice.send(new DisableImageDeprecationCommand({ ImageId: id }));
    assert.equal(await lists(bob, id), true);
  });
});

describe('deregistration protection', () => {
  test('without cooldown: DeregisterImage is refused until protection is disabled', async () => {
    const id = await registerEbs(alice, 'protect-no-cooldown');
    const on = await alice.send(new EnableImageDeregistrationProtectionCommand({ ImageId: id }));
    assert.equal(on.Return, 'enabled-without-cooldown');
    assert.equal((await describeOne(alice, id)).DeregistrationProtection, 'enabled-without-cooldown');
    const attr = await alice.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'deregistrationProtection' }));
    assert.equal(attr.DeregistrationProtection?.Value, 'enabled-without-cooldown');
    await expectAwsError(alice.send(new DeregisterImageCommand({ ImageId: id })), {
      name: 'OperationNotPermitted', status: 400, message: `Image ${id} has deregistration protection enabled; disable it first.`,
    });
    const off = await alice.send(new DisableImageDeregistrationProtectionCommand({ ImageId: id }));
    assert.equal(off.Return, 'disabled');
    assert.equal((await describeOne(alice, id)).DeregistrationProtection, 'disabled');
    assert.equal((await alice.send(new DeregisterImageCommand({ ImageId: id }))).Return, true);
  });

  test('with cooldown: disabling leaves the image protected for 24 hours, shown as disabled-until', async () => {
    const id = await registerEbs(alice, 'protect-cooldown');
    assert.equal((await alice.send(new EnableImageDeregistrationProtectionCommand({ ImageId: id, WithCooldown: true }))).Return, 'enabled-with-cooldown');
    assert.equal((await describeOne(alice, id)).DeregistrationProtection, 'enabled-with-cooldown');

    const before = await serverNow();
    const off = await alice.send(new DisableImageDeregistrationProtectionCommand({ ImageId: id }));
    const after = await serverNow();
    const match = /^disabled-until (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$/.exec(off.Return ?? '');
    assert.ok(match, `Return: ${off.Return}`);
    const until = Date.parse(match[1]);
    assert.ok(until >= before.getTime() + 24 * HOUR && until <= after.getTime() + 24 * HOUR, 'cooldown of 24 hours');
    assert.equal((await describeOne(alice, id)).DeregistrationProtection, off.Return);
    const attr = await alice.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'deregistrationProtection' }));
    assert.equal(attr.DeregistrationProtection?.Value, off.Return);
    await expectAwsError(alice.send(new DeregisterImageCommand({ ImageId: id })), {
      name: 'OperationNotPermitted', status: 400, message: new RegExp(`protected from deregistration until ${match[1].replace(/\./g, '\\.')}`),
    });
    // Disabling again during the cooldown neither ends nor restarts it.
    assert.equal((await alice.send(new DisableImageDeregistrationProtectionCommand({ ImageId: id }))).Return, off.Return);

    await advance(23 * 3600);
    await expectAwsError(alice.send(new DeregisterImageCommand({ ImageId: id })), { name: 'OperationNotPermitted' });
    await advance(3600 + 60);
    assert.equal((await describeOne(alice, id)).DeregistrationProtection, 'disabled');
    assert.equal((await alice.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'deregistrationProtection' })))
      .DeregistrationProtection?.Value, 'disabled');
    assert.equal((await alice.send(new DeregisterImageCommand({ ImageId: id }))).Return, true);
  });

  test('another account can neither change the protection nor deregister; a private image stays hidden', async () => {
    const id = await registerEbs(alice, 'protect-others');
    await expectAwsError(bob.send(new EnableImageDeregistrationProtectionCommand({ ImageId: id })), { name: 'InvalidAMIID.NotFound', status: 400 });
    await shareWithBob(id);
    await alice.send(new EnableImageDeregistrationProtectionCommand({ ImageId: id }));
    await expectAwsError(bob.send(new DisableImageDeregistrationProtectionCommand({ ImageId: id })), {
      name: 'AuthFailure', status: 400, message: `Not authorized for image:${id}`,
    });
    await expectAwsError(bob.send(new DeregisterImageCommand({ ImageId: id })), { name: 'AuthFailure', status: 400 });
    // BOB sees the state, as DescribeImages shows it to every account that sees the image.
    assert.equal((await describeOne(bob, id)).DeregistrationProtection, 'enabled-without-cooldown');
    assert.equal((await describeOne(alice, id)).DeregistrationProtection, 'enabled-without-cooldown');
  });
});
