// The golden-image flow on real guests, through the official SDK: `amiforge serve --hypervisor
// qemu`, RunInstances of amiforge-minimal-linux with user data that writes a file, CreateImage
// (with its reboot), RunInstances of the new image with user data that reads the file back, and
// termination of everything, after which no QEMU process, socket or runtime directory is left.
// Runs under TCG when KVM does not work (a boot takes seconds; the machine may be loaded).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { CreateImageCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { defaultRuntimeDir } from '../../src/adapters/qemu/qemu-hypervisor.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import {
  baseImage, buildBaseImage, consoleOf, consoleShows, imageAvailable, launchWithScript, qemuProcessesUnder, terminateAll, until,
} from '../support/qemu.ts';
import { startServer, type RunningServer } from '../support/server.ts';

let server: RunningServer;
let ec2: EC2Client;

before(async () => {
  await buildBaseImage();
  server = await startServer({ extraArgs: ['--hypervisor', 'qemu'] });
  ec2 = ec2Client(server.endpoint, devCredentials('111111111111'));
});

after(async () => {
  await server?.stop();
});

test('golden image: configure an instance, CreateImage, launch the image, find the configuration; nothing left behind', { timeout: 1_200_000 }, async (t) => {
  const started = Date.now();
  const base = await baseImage(ec2);
  assert.equal(base.ImdsSupport, 'v2.0');

  const builder = await launchWithScript(ec2, base.ImageId!, [
    '#!/bin/sh',
    'echo "configured by user data of $(hostname)" >/etc/golden.txt',
    'sync',
    'echo golden-marker-written',
    '',
  ].join('\n'));
  const first = await consoleShows(ec2, builder, 'golden-marker-written');
  assert.match(first, new RegExp(`amiforge: instance-id ${builder}`));
  t.diagnostic(`builder ${builder} configured after ${Date.now() - started} ms`);

  const { ImageId } = await ec2.send(new CreateImageCommand({ InstanceId: builder, Name: 'golden-v1' }));
  await imageAvailable(ec2, ImageId!);
  t.diagnostic(`${ImageId} available after ${Date.now() - started} ms`);
  // CreateImage shut the builder down cleanly for its snapshot and booted it again.
  await consoleShows(ec2, builder, 'amiforge: shutting down');
  await until('the builder booted again', async () => ((await consoleOf(ec2, builder)).split('amiforge: boot finished').length >= 3 ? true : undefined));

  const clone = await launchWithScript(ec2, ImageId!, '#!/bin/sh\necho "golden says: $(cat /etc/golden.txt)"\n');
  const out = await consoleShows(ec2, clone, 'golden says:');
  assert.match(out, new RegExp(`golden says: configured by user data of ip-[0-9-]+\\.ec2\\.internal`));
  assert.match(out, new RegExp(`amiforge: instance-id ${clone}`));
  assert.doesNotMatch(out, /golden-marker-written/, 'the builder\'s user data does not run in the clone');
  t.diagnostic(`clone ${clone} read the file after ${Date.now() - started} ms`);

  await terminateAll(ec2, [builder, clone]);
  const runtimeDir = defaultRuntimeDir(server.dataDir);
  assert.deepEqual(await qemuProcessesUnder(runtimeDir), [], 'no QEMU process is left');
  assert.deepEqual(await readdir(runtimeDir), [], 'no socket, console or directory is left');
  await server.stop();
  await assert.rejects(readdir(runtimeDir), { code: 'ENOENT' });
  t.diagnostic(`whole flow ${Date.now() - started} ms`);
});
