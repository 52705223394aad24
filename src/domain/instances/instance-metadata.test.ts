// What a guest reads from IMDS: the keys and shapes cloud-init's EC2 datasource expects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import { instanceIdentity, instanceMacAddress, instanceMetadata } from './guest-spec.ts';

const record = {
  region: 'us-east-1', instanceId: 'i-0123456789abcdef0', ownerId: '111111111111', reservationId: 'r-0123456789abcdef0',
  imageId: 'ami-0aa0ce174620ddbc5', instanceType: 't3.micro', availabilityZone: 'us-east-1a', privateIpAddress: '172.31.16.5',
  launchIndex: 0, keyName: 'builder', publicKey: 'ssh-ed25519 AAAAC3Nza builder', launchTime: '2026-12-07T16:00:00.000Z',
  architecture: 'x86_64', rootDeviceName: '/dev/xvda', instanceStore: [],
} as unknown as InstanceRecord;

test('meta-data: public keys listed as 0=NAME, the NIC by its MAC, placement', () => {
  const md = instanceMetadata(record, []);
  assert.equal(md['public-keys/'], '0=builder');
  assert.equal(md['public-keys/0/openssh-key'], 'ssh-ed25519 AAAAC3Nza builder');
  assert.equal(md['instance-id'], 'i-0123456789abcdef0');
  assert.equal(md['placement/region'], 'us-east-1');
  const mac = instanceMacAddress(record.instanceId);
  assert.match(mac, /^0e(:[0-9a-f]{2}){5}$/);
  assert.equal(md.mac, mac);
  assert.equal(md[`network/interfaces/macs/${mac}/device-number`], '0');
  assert.equal(md[`network/interfaces/macs/${mac}/local-ipv4s`], '172.31.16.5');
  assert.equal(md[`network/interfaces/macs/${mac}/owner-id`], '111111111111');
  assert.notEqual(instanceMacAddress('i-0123456789abcdef1'), mac);
  const keyless = instanceMetadata({ ...record, publicKey: undefined, keyName: undefined }, []);
  assert.equal(keyless['public-keys/'], undefined);
});

test('dynamic: the instance identity document', () => {
  const doc = JSON.parse(instanceIdentity(record)['instance-identity/document']);
  assert.deepEqual(doc, {
    accountId: '111111111111', architecture: 'x86_64', availabilityZone: 'us-east-1a', billingProducts: null,
    devpayProductCodes: null, marketplaceProductCodes: null, imageId: 'ami-0aa0ce174620ddbc5',
    instanceId: 'i-0123456789abcdef0', instanceType: 't3.micro', kernelId: null, pendingTime: '2026-12-07T16:00:00Z',
    privateIp: '172.31.16.5', ramdiskId: null, region: 'us-east-1', version: '2017-09-30',
  });
});
