// `--sim-boot-ms 0`: test suites written for moto and LocalStack call describe_instances right
// after run_instances and expect `running`, with no waiter. The answers still show EC2's first
// step (pending, stopping, shutting-down); the next call shows where it ended.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../support/server.ts';
import { boto3, cliOk, devCredentials } from '../support/clients.ts';

const AL2023_US_EAST_1 = 'ami-0dd4dbe59a8675ce3';

let server: RunningServer;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '0'] });
});
after(async () => {
  await server?.stop();
});

test('run, stop, start and terminate: each next describe_instances shows the end state, no sleep', async () => {
  const out = await cliOk(boto3(server.endpoint, devCredentials('777777777777'), `
def state(i):
    return ec2.describe_instances(InstanceIds=[i])["Reservations"][0]["Instances"][0]["State"]["Name"]
run = ec2.run_instances(ImageId="${AL2023_US_EAST_1}", MinCount=2, MaxCount=2, InstanceType="t3.micro")
ids = [i["InstanceId"] for i in run["Instances"]]
seen = {"run": [i["State"]["Name"] for i in run["Instances"]], "after_run": [state(i) for i in ids]}
stop = ec2.stop_instances(InstanceIds=ids[:1])["StoppingInstances"][0]["CurrentState"]["Name"]
seen["stop"] = stop
seen["after_stop"] = state(ids[0])
seen["start"] = ec2.start_instances(InstanceIds=ids[:1])["StartingInstances"][0]["CurrentState"]["Name"]
seen["after_start"] = state(ids[0])
seen["terminate"] = ec2.terminate_instances(InstanceIds=ids)["TerminatingInstances"][0]["CurrentState"]["Name"]
seen["after_terminate"] = [state(i) for i in ids]
print(json.dumps(seen))
`));
  assert.deepEqual(out, {
    run: ['pending', 'pending'], after_run: ['running', 'running'],
    stop: 'stopping', after_stop: 'stopped',
    start: 'pending', after_start: 'running',
    terminate: 'shutting-down', after_terminate: ['terminated', 'terminated'],
  });
});
