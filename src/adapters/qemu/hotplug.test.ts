// The QMP conversation of a hot-plug, against a stand-in QEMU: the commands in order, the unplug
// asked again until the guest lets go, and a guest that never does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plugDisk, unplugDisk } from './hotplug.ts';

function fakeQmp(onCommand: (command: string, args: Record<string, unknown>) => void = () => {}) {
  const commands: string[] = [];
  const listeners = new Set<(e: Record<string, unknown>) => void>();
  let gone!: () => void;
  return {
    commands,
    emit: (e: Record<string, unknown>) => { for (const l of [...listeners]) l(e); },
    quit: () => gone(),
    qmp: {
      gone: new Promise<void>((r) => { gone = r; }),
      onEvent(l: (e: Record<string, unknown>) => void) { listeners.add(l); return () => listeners.delete(l); },
      async execute(command: string, args?: Record<string, unknown>) {
        commands.push(`${command} ${JSON.stringify(args ?? {})}`);
        onCommand(command, args ?? {});
        return {};
      },
    },
  };
}

test('plug: an nbd node on the socket, then the virtio-blk device on it; a refused device drops the node', async () => {
  const f = fakeQmp();
  await plugDisk(f.qmp, { deviceId: 'h00', node: 'node-h00', socket: '/run/i/h00.nbd' });
  assert.deepEqual(f.commands, [
    'blockdev-add {"driver":"nbd","node-name":"node-h00","server":{"type":"unix","path":"/run/i/h00.nbd"},"export":"disk"}',
    'device_add {"driver":"virtio-blk-pci","drive":"node-h00","id":"h00"}',
  ]);
  const refusing = fakeQmp((c) => { if (c === 'device_add') throw new Error('QMP device_add: GenericError: no slot'); });
  await assert.rejects(plugDisk(refusing.qmp, { deviceId: 'h01', node: 'node-h01', socket: '/s' }), /no slot/);
  assert.match(refusing.commands.at(-1)!, /^blockdev-del \{"node-name":"node-h01"\}/);
});

test('unplug: device_del until DEVICE_DELETED for that device, then blockdev-del; a guest that never lets go times out', async () => {
  const f = fakeQmp((c) => {
    // The guest ignores the first request (still booting) and answers the second.
    if (c === 'device_del' && f.commands.filter((x) => x.startsWith('device_del')).length === 2) {
      setImmediate(() => { f.emit({ event: 'DEVICE_DELETED', data: { device: 'other' } }); f.emit({ event: 'DEVICE_DELETED', data: { device: 'h00' } }); });
    }
  });
  await unplugDisk(f.qmp, { deviceId: 'h00', node: 'node-h00', timeoutMs: 5000, repeatMs: 20, what: '/dev/sdf' });
  assert.deepEqual(f.commands, ['device_del {"id":"h00"}', 'device_del {"id":"h00"}', 'blockdev-del {"node-name":"node-h00"}']);

  const stuck = fakeQmp();
  await assert.rejects(unplugDisk(stuck.qmp, { deviceId: 'd01', timeoutMs: 100, repeatMs: 30, what: '/dev/sdb' }), /did not release \/dev\/sdb within 100 ms/);
  assert.ok(!stuck.commands.some((c) => c.startsWith('blockdev-del')), 'the disk stays');
  const quitting = fakeQmp();
  const pending = unplugDisk(quitting.qmp, { deviceId: 'd01', timeoutMs: 5000, repeatMs: 1000, what: '/dev/sdb' });
  quitting.quit();
  await assert.rejects(pending, /stopped before releasing/);
});
