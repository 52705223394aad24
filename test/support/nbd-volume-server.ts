// A process that serves one volume of a data directory over NBD, with the server code a QEMU
// guest's disk uses (NbdServer over volumeExport over VolumeData): what the fault tests SIGKILL
// to show what a guest's flush makes durable. Prints "ready" once it listens.
//
//   node test/support/nbd-volume-server.ts DATA_DIR REGION VOLUME_ID SOCKET [WRITE_BUFFER_BLOCKS]
import { NbdServer } from '../../src/adapters/qemu/nbd-server.ts';
import { volumeExport } from '../../src/adapters/qemu/volume-export.ts';
import { VolumeData } from '../../src/domain/volumes/volume-data.ts';
import { openStores } from '../../src/server/stores.ts';

const [dataDir, region, volumeId, socket, buffer] = process.argv.slice(2);
const { store, blocks } = await openStores(dataDir);
const vol = await store.volumes.get(region, volumeId);
if (!vol) throw new Error(`no volume ${volumeId} in ${region}`);
const data = new VolumeData({ store, blocks, writeBufferBlocks: buffer === undefined ? undefined : Number(buffer) });
const server = new NbdServer({ export: volumeExport(data, vol), name: 'disk', onError: (err) => console.error(err) });
await server.listen(socket);
process.on('SIGTERM', () => void server.close().then(() => store.close()).then(() => process.exit(0)));
console.log('ready');
