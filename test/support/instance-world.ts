// The instance services in process for domain tests: an in-memory store, a block store under a
// test's temporary directory, the simulator (or the driver a test hands in), a clock the test can
// move, and one registered image on an empty 1 GiB snapshot.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { FsBlockStore } from '../../src/adapters/fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../../src/adapters/sqlite/sqlite-store.ts';
import type { ServerConfig } from '../../src/config/config.ts';
import type { Caller } from '../../src/domain/context.ts';
import { standaloneEncryption } from '../../src/domain/encryption/ebs-encryption.ts';
import { ImageService } from '../../src/domain/images/image-service.ts';
import { SnapshotService } from '../../src/domain/snapshots/snapshot-service.ts';
import { VolumeData } from '../../src/domain/volumes/volume-data.ts';
import { VolumeService } from '../../src/domain/volumes/volume-service.ts';
import { VolumeSnapshots } from '../../src/domain/volumes/volume-snapshots.ts';
import type { Hypervisor } from '../../src/ports/hypervisor.ts';
import { randomIds } from '../../src/ports/ids.ts';
import { createInstanceServices } from '../../src/server/instances-wiring.ts';
import { createLogger } from '../../src/server/logger.ts';

/** Everything the instance services need, on a fresh store; `advance` moves `clock.now`. */
export async function instanceWorld(opts: { dir: string; caller: Caller; hypervisor?: Hypervisor }) {
  const { dir, caller, hypervisor } = opts;
  const store = new SqliteMetadataStore(':memory:');
  const blocks = new FsBlockStore({ root: mkdtempSync(join(dir, 'blocks-')) });
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => new Date(now) };
  const deps = { store, clock, ids: randomIds };
  const encryption = await standaloneEncryption(store, clock);
  const snapshots = new SnapshotService({ ...deps, copier: { start: () => {} }, encryption });
  const images = new ImageService({ ...deps, snapshots });
  const volumes = new VolumeService({ ...deps, snapshots, blocks, encryption });
  const volumeData = new VolumeData({ store, blocks });
  const volumeSnapshots = new VolumeSnapshots({ ...deps, blocks, volumes, onError: () => {} });
  const config = { instanceLimit: 10, hypervisor: { driver: 'sim', bootMs: 1 } } as unknown as ServerConfig;
  const compute = createInstanceServices({ config, store, clock, ids: randomIds, images, snapshots, volumes, volumeData, volumeSnapshots, log: createLogger('silent'), hypervisor });
  const snap = await volumeSnapshots.take(caller, [{ volume: await volumes.make(caller, { size: 1, availabilityZone: 'us-east-1a' }), tags: [] }]);
  await volumeSnapshots.idle();
  const imageId = await images.register(caller, {
    Name: 'base', Architecture: 'x86_64', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap[0].snapshotId } }],
  });
  const s = compute.services;
  /** Lets the simulated boots and stops (timers of a few ms) run and the lifecycle catch up. */
  const settle = async () => {
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await s.lifecycle.idle();
    }
  };
  const state = async (id: string) => (await store.instances.get(caller.region, id))!.state;
  return { store, clock, advance: (ms: number) => { now += ms; }, s, compute, imageId, settle, state, volumeSnapshots, close: async () => {
    await compute.close();
    await store.close();
  } };
}
