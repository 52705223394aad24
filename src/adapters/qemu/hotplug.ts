// Volumes plugged into and out of a running guest over QMP (the `pc` machine's ACPI PCI hot-plug):
//   plug:   blockdev-add (an `nbd` node on the volume's NBD socket), device_add virtio-blk-pci:
//           the guest's kernel sees a new PCI device and a new /dev/vdX.
//   unplug: device_del asks the guest to let go (an ACPI eject), repeated every few seconds (one
//           sent while the guest is still booting is never seen); QEMU's DEVICE_DELETED says it
//           did; then blockdev-del for a hot-plugged node (a disk given at start is a -drive,
//           deleted with its device). A guest that never lets go fails the unplug after a timeout.
import type { QmpClient } from './qmp.ts';

type Qmp = Pick<QmpClient, 'execute' | 'onEvent' | 'gone'>;

export async function plugDisk(qmp: Qmp, o: { deviceId: string; node: string; socket: string }): Promise<void> {
  await qmp.execute('blockdev-add', { driver: 'nbd', 'node-name': o.node, server: { type: 'unix', path: o.socket }, export: 'disk' });
  try {
    await qmp.execute('device_add', { driver: 'virtio-blk-pci', drive: o.node, id: o.deviceId });
  } catch (err) {
    await qmp.execute('blockdev-del', { 'node-name': o.node }).catch(() => {});
    throw err;
  }
}

export async function unplugDisk(qmp: Qmp, o: { deviceId: string; node?: string; timeoutMs: number; repeatMs: number; what: string }): Promise<void> {
  let off = () => {};
  const deleted = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the guest did not release ${o.what} within ${o.timeoutMs} ms`)), o.timeoutMs);
    off = qmp.onEvent((e) => {
      if (e.event !== 'DEVICE_DELETED' || (e.data as { device?: string } | undefined)?.device !== o.deviceId) return;
      clearTimeout(timer);
      resolve();
    });
    void qmp.gone.then(() => {
      clearTimeout(timer);
      reject(new Error(`the guest stopped before releasing ${o.what}`));
    });
  });
  await qmp.execute('device_del', { id: o.deviceId });
  const again = setInterval(() => void qmp.execute('device_del', { id: o.deviceId }).catch(() => {}), o.repeatMs);
  try {
    await deleted;
  } finally {
    clearInterval(again);
    off();
  }
  if (o.node) await qmp.execute('blockdev-del', { 'node-name': o.node });
}
