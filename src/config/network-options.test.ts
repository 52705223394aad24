// --public-address-range and --allow-public-forwarding: where running instances' host addresses
// come from, and the refusal to forward guest ports beyond loopback unless asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseServeOptions } from './config.ts';
import { intToIpv4 } from '../domain/network/cidr.ts';

const net = (o: Record<string, unknown>) => parseServeOptions({ dataDir: '/d', ...o }, {}).network;

test('the default range is 127.100.0.0/16 without its first and last addresses', () => {
  const n = net({});
  assert.equal(n.publicAddressRange, '127.100.0.0/16');
  assert.deepEqual([intToIpv4(n.first), intToIpv4(n.last)], ['127.100.0.1', '127.100.255.254']);
  const small = net({ publicAddressRange: '127.5.0.0/30' });
  assert.deepEqual([intToIpv4(small.first), intToIpv4(small.last)], ['127.5.0.1', '127.5.0.2']);
});

test('a range beyond loopback needs --allow-public-forwarding', () => {
  assert.throws(() => net({ publicAddressRange: '10.50.0.0/24' }), (e: Error) => e instanceof ConfigError && /--allow-public-forwarding/.test(e.message));
  assert.equal(net({ publicAddressRange: '10.50.0.0/24', allowPublicForwarding: true }).publicAddressRange, '10.50.0.0/24');
});

test('malformed ranges, and ranges holding 127.0.0.1, are refused', () => {
  for (const bad of ['127.100.0.1/16', '127.100.0.0', '127.100.0.0/31', 'x', '127.0.0.0/8', '127.0.0.0/24']) {
    assert.throws(() => net({ publicAddressRange: bad }), ConfigError, bad);
  }
});
