// cloud-init's ds-identify tells an EC2 instance by a product UUID (or serial) starting with
// "ec2"; the UUID is the instance's own, the same at every boot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ec2Smbios, ec2SystemUuid } from './smbios.ts';

test('the system UUID starts with ec2, is a UUID, and is stable per instance', () => {
  const uuid = ec2SystemUuid('i-0123456789abcdef0');
  assert.match(uuid, /^ec2[0-9a-f]{5}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(ec2SystemUuid('i-0123456789abcdef0'), uuid);
  assert.notEqual(ec2SystemUuid('i-0123456789abcdef1'), uuid);
  const [system, chassis] = ec2Smbios('i-0123456789abcdef0', 't3.micro');
  assert.equal(system, `type=1,manufacturer=Amazon EC2,product=t3.micro,version=1.0,serial=${uuid},uuid=${uuid}`);
  assert.equal(chassis, 'type=3,manufacturer=Amazon EC2,asset=i-0123456789abcdef0');
  assert.doesNotMatch(ec2Smbios('i-0123456789abcdef0', 'x,y=z')[0], /x,y/, 'no commas reach QEMU from a type name');
});
