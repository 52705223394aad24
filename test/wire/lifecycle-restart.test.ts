// What amiforge does with instances when it restarts under the simulator (README: "Restarts"):
// running instances boot again (pending → running, user data not run again), stopped ones stay
// stopped, terminated ones stay terminated; after a clean stop and after SIGKILL alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import {
  bootsIn, CATALOGUE_AMI, CLOUD_INIT_DONE, consoleText, runOne, simUserData, waitForConsole, waitRunning, waitStopped, waitTerminated,
} from '../support/instances.ts';

let dataDir: string;
let server: RunningServer | undefined;

before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'amiforge-restart-'));
});
after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function boot(): Promise<EC2Client> {
  server = await startServer({ dataDir, extraArgs: ['--sim-boot-ms', '50'] });
  return ec2Client(server.endpoint, devCredentials('999999999999'));
}

async function states(ec2: EC2Client): Promise<Record<string, string>> {
  const out = await ec2.send(new DescribeInstancesCommand({}));
  return Object.fromEntries(out.Reservations!.flatMap((r) => r.Instances!.map((i) => [i.InstanceId!, i.State!.Name!])));
}

describe('restarting amiforge with instances', () => {
  let running: string;
  let stopped: string;
  let terminated: string;

  test('before: one running, one stopped, one terminated', async () => {
    const ec2 = await boot();
    running = (await runOne(ec2, { ImageId: CATALOGUE_AMI, UserData: simUserData('echo once per instance') })).InstanceId!;
    stopped = (await runOne(ec2, { ImageId: CATALOGUE_AMI })).InstanceId!;
    terminated = (await runOne(ec2, { ImageId: CATALOGUE_AMI })).InstanceId!;
    await waitRunning(ec2, [running, stopped, terminated]);
    await waitForConsole(ec2, running, CLOUD_INIT_DONE);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped] }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [terminated] }));
    await waitStopped(ec2, [stopped]);
    await waitTerminated(ec2, [terminated]);
  });

  for (const how of ['a clean stop (SIGTERM)', 'a crash (SIGKILL)'] as const) {
    test(`after ${how}: the running instance boots again, the others keep their state`, async () => {
      if (how.includes('SIGKILL')) await server!.kill();
      else await server!.stop();
      const ec2 = await boot();
      const after = await states(ec2);
      assert.ok(['pending', 'running'].includes(after[running]), `running instance is ${after[running]}`);
      assert.equal(after[stopped], 'stopped');
      assert.equal(after[terminated], 'terminated');
      await waitRunning(ec2, [running]);
      const log = await waitForConsole(ec2, running, CLOUD_INIT_DONE);
      assert.equal(bootsIn(log), 1, 'the console is the new boot\'s (the simulator keeps it in memory)');
      assert.doesNotMatch(log, /once per instance/, 'user data is not run again');
      assert.equal(await consoleText(ec2, stopped), '', 'no console kept for a guest that has not run since');
    });
  }
});
