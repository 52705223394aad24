// The forwarded set follows each call (HMP hostfwd_add/remove on the guest's netdev), with the
// port offset; a port the host cannot bind is refused with a reason that says what to do, and
// the others are forwarded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { PortForwards, refusalReason } from './port-forwards.ts';

test('adds and removes forwards to follow the set; a port in use is refused, the rest forwarded', async () => {
  const commands: string[] = [];
  // Host port 48080 (guest port 8080 with the offset) is taken: here, or by whoever had it first.
  const busy = createServer();
  await new Promise<void>((r) => {
    busy.once('error', () => r());
    busy.listen(48080, '127.7.0.1', () => r());
  });
  try {
    const offset = 40000;
    const f = new PortForwards({ hmp: async (c) => { commands.push(c); return ''; }, offset, beyondLoopback: false });
    const first = await f.apply({ hostAddress: '127.7.0.1', ports: [22, 80] });
    assert.deepEqual(first, { forwarded: [22, 80], refused: [] });
    assert.deepEqual(commands, [
      'hostfwd_add net0 tcp:127.7.0.1:40022-169.254.0.15:22',
      'hostfwd_add net0 tcp:127.7.0.1:40080-169.254.0.15:80',
    ]);
    commands.length = 0;
    const second = await f.apply({ hostAddress: '127.7.0.1', ports: [22, 8080] });
    assert.deepEqual(second.forwarded, [22]);
    assert.equal(second.refused.length, 1);
    assert.match(second.refused[0].reason, /already in use/);
    assert.deepEqual(commands, ['hostfwd_remove net0 tcp:127.7.0.1:40080'], 'port 22 stays as it was');
    commands.length = 0;
    assert.deepEqual(await f.apply({ hostAddress: '127.7.0.1', ports: [] }), { forwarded: [], refused: [] });
    assert.deepEqual(commands, ['hostfwd_remove net0 tcp:127.7.0.1:40022']);
    const outside = await f.apply({ hostAddress: '192.0.2.1', ports: [22] });
    assert.match(outside.refused[0].reason, /not a loopback address/);
  } finally {
    if (busy.listening) busy.close();
  }
});

test('QEMU refusing a rule refuses that port with its message', async () => {
  const f = new PortForwards({ hmp: async (c) => (c.includes(':40443-') ? "Could not set up host forwarding rule 'tcp:...'\r\n" : ''), offset: 40000, beyondLoopback: false });
  const r = await f.apply({ hostAddress: '127.7.0.2', ports: [443, 22] });
  assert.deepEqual(r.forwarded, [22]);
  assert.deepEqual(r.refused.map((x) => x.port), [443]);
  assert.match(r.refused[0].reason, /^QEMU: Could not set up host forwarding rule/);
});

test('a privileged port says how to allow it', () => {
  const why = refusalReason('EACCES', '127.0.0.5', 22, 0);
  assert.match(why, /sysctl net\.ipv4\.ip_unprivileged_port_start=22/);
  assert.match(why, /as root/);
  assert.match(why, /offset/);
});
