// Image Builder lifecycle policies through the official clients (@aws-sdk/client-imagebuilder and
// client-ec2, the aws CLI, boto3) on the simulator: AMIs selected by tag, a policy that keeps the
// newest N and deletes the rest with their snapshots, a preview first, deprecation by age on the
// test clock with exclusions (an AMI tag, an instance still running), and Image Builder's errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeImagesCommand, DescribeSnapshotsCommand, RegisterImageCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CancelLifecycleExecutionCommand, CreateLifecyclePolicyCommand, DeleteLifecyclePolicyCommand, GetLifecycleExecutionCommand,
  GetLifecyclePolicyCommand, ImagebuilderClient, ListLifecycleExecutionResourcesCommand, ListLifecycleExecutionsCommand,
  ListLifecyclePoliciesCommand, TagResourceCommand, UpdateLifecyclePolicyCommand, type CreateLifecyclePolicyCommandInput, type LifecycleExecution,
} from '@aws-sdk/client-imagebuilder';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { awsCli, boto3, devCredentials, ec2Client } from '../support/clients.ts';
import { runOne, waitRunning } from '../support/instances.ts';
import { createSnapshot, expectAwsError } from '../support/sdk.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { startLifecycleRun, waitForLifecycleExecution } from '../support/imagebuilder.ts';

const ACCOUNT = '123456789012';
const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const execNode = promisify(execFile);
const DAY = 86_400;

let server: RunningServer;
let ec2: EC2Client;
let ib: ImagebuilderClient;

const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-lifecycle-'));

before(async () => {
  server = await startServer({ dataDir, extraArgs: ['--sim-boot-ms', '100'] });
  ec2 = ec2Client(server.endpoint, devCredentials(ACCOUNT));
  ib = new ImagebuilderClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: devCredentials(ACCOUNT), maxAttempts: 1 });
});
after(async () => {
  ib?.destroy();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function advance(seconds: number): Promise<void> {
  const res = await server.ops(`/_amiforge/clock/advance/${seconds}`, { method: 'POST' });
  assert.equal(res.status, 200);
}

/** An AMI with a snapshot of its own, tagged; the test clock moves a minute after each so their creation times differ. */
async function tagged(name: string, tags: Record<string, string>): Promise<{ imageId: string; snapshotId: string }> {
  const snapshotId = await createSnapshot(ec2, 1);
  const { ImageId } = await ec2.send(new RegisterImageCommand({
    Name: name, RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId } }],
    TagSpecifications: [{ ResourceType: 'image', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
  }));
  await advance(60);
  return { imageId: ImageId!, snapshotId };
}

const request = (name: string, over: Partial<CreateLifecyclePolicyCommandInput> = {}): CreateLifecyclePolicyCommandInput => ({
  name, executionRole: 'arn:aws:iam::123456789012:role/EC2ImageBuilderLifecycleExecutionRole', resourceType: 'AMI_IMAGE',
  policyDetails: [{ action: { type: 'DELETE', includeResources: { amis: true, snapshots: true } }, filter: { type: 'COUNT', value: 2 } }],
  resourceSelection: { tagMap: { Team: 'web' } },
  clientToken: `token-${name}`,
  ...over,
});

describe('Image Builder lifecycle policies', () => {
  test('keep the newest two: a preview changes nothing, then the rest go with their snapshots', async () => {
    const amis = [];
    for (let n = 1; n <= 4; n++) amis.push(await tagged(`web-${n}`, { Team: 'web' }));
    const other = await tagged('api-1', { Team: 'api' });
    const { lifecyclePolicyArn: arn } = await ib.send(new CreateLifecyclePolicyCommand(request('keep-two-web')));
    assert.equal(arn, `arn:aws:imagebuilder:us-east-1:${ACCOUNT}:lifecycle-policy/keep-two-web`);

    // The preview through `amiforge lifecycle-policies preview`, the run through the endpoint it calls.
    const cli = await execNode(process.execPath, [CLI, 'lifecycle-policies', 'preview', arn!, '--endpoint-url', server.endpoint]);
    const preview = await waitForLifecycleExecution(ib, cli.stdout.trim());
    assert.equal(preview.state?.status, 'SUCCESS');
    const previewed = (await ib.send(new ListLifecycleExecutionResourcesCommand({ lifecycleExecutionId: preview.lifecycleExecutionId }))).resources!;
    assert.deepEqual(previewed.map((r) => [r.resourceId, r.action?.name, r.state?.status]), [[amis[1].imageId, 'DELETE', 'SKIPPED'], [amis[0].imageId, 'DELETE', 'SKIPPED']]);
    assert.match(previewed[0].state!.reason!, /Preview/);
    assert.equal((await ec2.send(new DescribeImagesCommand({ ImageIds: amis.map((a) => a.imageId) }))).Images!.length, 4);

    const run = await waitForLifecycleExecution(ib, (await startLifecycleRun(server, arn!, 'run')).lifecycleExecutionId);
    assert.equal(run.state?.status, 'SUCCESS', run.state?.reason);
    assert.equal(run.resourcesImpactedSummary?.hasImpactedResources, true);
    const resources = (await ib.send(new ListLifecycleExecutionResourcesCommand({ lifecycleExecutionId: run.lifecycleExecutionId }))).resources!;
    assert.deepEqual(resources.map((r) => [r.resourceId, r.action?.name, r.state?.status, r.region, r.accountId, r.snapshots?.map((s) => [s.snapshotId, s.state?.status])]), [
      [amis[1].imageId, 'DELETE', 'SUCCESS', 'us-east-1', ACCOUNT, [[amis[1].snapshotId, 'SUCCESS']]],
      [amis[0].imageId, 'DELETE', 'SUCCESS', 'us-east-1', ACCOUNT, [[amis[0].snapshotId, 'SUCCESS']]],
    ]);
    const left = (await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images!.map((i) => i.ImageId).sort();
    assert.deepEqual(left, [amis[2].imageId, amis[3].imageId, other.imageId].sort());
    for (const gone of [amis[0], amis[1]]) {
      await expectAwsError(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [gone.snapshotId] })), { name: 'InvalidSnapshot.NotFound' });
    }
    const kept = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [amis[2].snapshotId, amis[3].snapshotId] }));
    assert.equal(kept.Snapshots!.length, 2);

    const listed = await ib.send(new ListLifecycleExecutionsCommand({ resourceArn: arn }));
    assert.deepEqual(listed.lifecycleExecutions!.map((e) => e.lifecycleExecutionId), [run.lifecycleExecutionId, preview.lifecycleExecutionId], 'newest first');
    const policy = (await ib.send(new GetLifecyclePolicyCommand({ lifecyclePolicyArn: arn }))).lifecyclePolicy!;
    assert.ok(policy.dateLastRun instanceof Date);
    await expectAwsError(ib.send(new CancelLifecycleExecutionCommand({ lifecycleExecutionId: run.lifecycleExecutionId, clientToken: 'c1' })), {
      name: 'InvalidRequestException', status: 400, message: /is SUCCESS/,
    });
  });

  test('deprecate by age on the test clock, except an AMI tagged to keep and one an instance runs from', async () => {
    const old = await tagged('api-old', { Team: 'api2' });
    const keep = await tagged('api-keep', { Team: 'api2', Keep: 'yes' });
    const used = await tagged('api-used', { Team: 'api2' });
    const instance = await runOne(ec2, { ImageId: used.imageId });
    await waitRunning(ec2, [instance.InstanceId!]);
    const { lifecyclePolicyArn: arn } = await ib.send(new CreateLifecyclePolicyCommand(request('deprecate-api', {
      policyDetails: [{
        action: { type: 'DEPRECATE' }, filter: { type: 'AGE', value: 7, unit: 'DAYS' },
        exclusionRules: { amis: { tagMap: { Keep: 'yes' }, lastLaunched: { value: 1, unit: 'DAYS' } } },
      }],
      resourceSelection: { tagMap: { Team: 'api2' } },
    })));
    assert.deepEqual((await ib.send(new ListLifecycleExecutionsCommand({ resourceArn: arn }))).lifecycleExecutions, []);

    // Eight days on: the daily schedule runs the policy once, and the AMIs are older than seven days.
    await advance(8 * DAY);
    let executions: LifecycleExecution[] = [];
    for (let i = 0; i < 400 && !executions.length; i++) {
      executions = (await ib.send(new ListLifecycleExecutionsCommand({ resourceArn: arn }))).lifecycleExecutions!;
      if (!executions.length) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(executions.length, 1);
    const run = await waitForLifecycleExecution(ib, executions[0].lifecycleExecutionId!);
    assert.equal(run.state?.status, 'SUCCESS', run.state?.reason);
    const resources = (await ib.send(new ListLifecycleExecutionResourcesCommand({ lifecycleExecutionId: run.lifecycleExecutionId }))).resources!;
    const byId = new Map(resources.map((r) => [r.resourceId, r]));
    assert.equal(byId.get(old.imageId)?.state?.status, 'SUCCESS');
    assert.equal(byId.get(keep.imageId)?.state?.status, 'SKIPPED');
    assert.match(byId.get(keep.imageId)!.state!.reason!, /excluded tag Keep=yes/);
    assert.equal(byId.get(used.imageId)?.state?.status, 'SKIPPED');
    assert.match(byId.get(used.imageId)!.state!.reason!, new RegExp(`instance ${instance.InstanceId} still runs`));

    const images = (await ec2.send(new DescribeImagesCommand({ ImageIds: [old.imageId, keep.imageId, used.imageId] }))).Images!;
    const deprecated = new Map(images.map((i) => [i.ImageId, i]));
    assert.ok(deprecated.get(old.imageId)!.DeprecationTime, 'the old AMI is deprecated');
    assert.ok(deprecated.get(old.imageId)!.Tags!.some((t) => t.Key === 'DeprecatedBy' && t.Value === 'EC2 Image Builder'));
    assert.equal(deprecated.get(keep.imageId)!.DeprecationTime, undefined);
    assert.equal(deprecated.get(used.imageId)!.DeprecationTime, undefined);
  });

  test('update, list with filters, delete; errors as Image Builder answers them', async () => {
    const { lifecyclePolicyArn: arn } = await ib.send(new CreateLifecyclePolicyCommand(request('errors-web', { status: 'DISABLED', description: 'first' })));
    await ib.send(new UpdateLifecyclePolicyCommand({
      lifecyclePolicyArn: arn, executionRole: 'LifecycleRole', resourceType: 'AMI_IMAGE', status: 'ENABLED', clientToken: 'u1',
      policyDetails: [{ action: { type: 'DISABLE', includeResources: { amis: true } }, filter: { type: 'AGE', value: 3, unit: 'MONTHS' } }],
      resourceSelection: { recipes: [{ name: 'web-recipe', semanticVersion: '1.x.x' }] },
    }));
    const got = (await ib.send(new GetLifecyclePolicyCommand({ lifecyclePolicyArn: arn }))).lifecyclePolicy!;
    assert.deepEqual([got.status, got.description, got.executionRole, got.policyDetails![0].action!.type], ['ENABLED', 'first', 'LifecycleRole', 'DISABLE']);
    assert.ok(got.dateUpdated instanceof Date);
    const again = await ib.send(new CreateLifecyclePolicyCommand(request('errors-web', { status: 'DISABLED', description: 'first' })));
    assert.equal(again.lifecyclePolicyArn, arn, 'the same clientToken answers the first request again');
    await ib.send(new TagResourceCommand({ resourceArn: arn, tags: { Owner: 'platform' } }));
    assert.deepEqual((await ib.send(new GetLifecyclePolicyCommand({ lifecyclePolicyArn: arn }))).lifecyclePolicy!.tags, { Owner: 'platform' });
    const enabled = await ib.send(new ListLifecyclePoliciesCommand({ filters: [{ name: 'name', values: ['errors-web'] }] }));
    assert.deepEqual(enabled.lifecyclePolicySummaryList!.map((p) => [p.name, p.status]), [['errors-web', 'ENABLED']]);

    await expectAwsError(ib.send(new CreateLifecyclePolicyCommand(request('errors-web', { clientToken: 'other' }))), { name: 'ResourceAlreadyExistsException', status: 400 });
    await expectAwsError(ib.send(new CreateLifecyclePolicyCommand(request('containers', { resourceType: 'CONTAINER_IMAGE' }))), {
      name: 'InvalidRequestException', status: 400, message: /CONTAINER_IMAGE is not supported/,
    });
    await expectAwsError(ib.send(new CreateLifecyclePolicyCommand(request('both', { resourceSelection: { tagMap: { a: 'b' }, recipes: [{ name: 'web-recipe', semanticVersion: '1.0.0' }] } }))), {
      name: 'InvalidRequestException', status: 400, message: /not both/,
    });
    await expectAwsError(ib.send(new CreateLifecyclePolicyCommand(request('age-no-unit', { policyDetails: [{ action: { type: 'DELETE' }, filter: { type: 'AGE', value: 5 } }] }))), {
      name: 'InvalidRequestException', status: 400, message: /needs a unit/,
    });
    await expectAwsError(ib.send(new CreateLifecyclePolicyCommand(request('count-too-big', { policyDetails: [{ action: { type: 'DELETE' }, filter: { type: 'COUNT', value: 1001 } }] }))), {
      name: 'InvalidRequestException', status: 400,
    });
    await expectAwsError(ib.send(new GetLifecycleExecutionCommand({ lifecycleExecutionId: 'lce-00000000-0000-0000-0000-000000000000' })), { name: 'ResourceNotFoundException', status: 404 });

    const bob = new ImagebuilderClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: devCredentials('210987654321'), maxAttempts: 1 });
    await expectAwsError(bob.send(new GetLifecyclePolicyCommand({ lifecyclePolicyArn: arn })), { name: 'ResourceNotFoundException', status: 404 });
    bob.destroy();

    await ib.send(new DeleteLifecyclePolicyCommand({ lifecyclePolicyArn: arn }));
    await expectAwsError(ib.send(new GetLifecyclePolicyCommand({ lifecyclePolicyArn: arn })), { name: 'ResourceNotFoundException', status: 404 });
    await assert.rejects(execNode(process.execPath, [CLI, 'lifecycle-policies', 'run', arn!, '--endpoint-url', server.endpoint]),
      (err: { code?: number; stderr?: string }) => err.code === 2 && /does not exist/.test(err.stderr ?? ''));
  });

  test('the aws CLI and boto3 create, get and list policies', async () => {
    const cli = await awsCli(server.endpoint, devCredentials(ACCOUNT), [
      'imagebuilder', 'create-lifecycle-policy', '--name', 'cli-policy', '--execution-role', 'LifecycleRole', '--resource-type', 'AMI_IMAGE',
      '--policy-details', JSON.stringify([{ action: { type: 'DELETE', includeResources: { amis: true } }, filter: { type: 'AGE', value: 6, unit: 'MONTHS', retainAtLeast: 3 } }]),
      '--resource-selection', JSON.stringify({ recipes: [{ name: 'web-recipe', semanticVersion: '2.x.x' }] }),
      '--client-token', 'cli-1',
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const arn = cli.json.lifecyclePolicyArn as string;
    const got = await awsCli(server.endpoint, devCredentials(ACCOUNT), ['imagebuilder', 'get-lifecycle-policy', '--lifecycle-policy-arn', arn]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(got.json.lifecyclePolicy.policyDetails[0].filter, { type: 'AGE', value: 6, unit: 'MONTHS', retainAtLeast: 3 });

    const py = await boto3(server.endpoint, devCredentials(ACCOUNT), [
      'ib = boto3.client("imagebuilder", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))',
      'made = ib.create_lifecycle_policy(name="boto-policy", executionRole="LifecycleRole", resourceType="AMI_IMAGE",',
      '  policyDetails=[{"action": {"type": "DEPRECATE"}, "filter": {"type": "COUNT", "value": 5}}],',
      '  resourceSelection={"tagMap": {"Team": "boto"}}, clientToken="boto-1")',
      'got = ib.get_lifecycle_policy(lifecyclePolicyArn=made["lifecyclePolicyArn"])["lifecyclePolicy"]',
      'names = [p["name"] for p in ib.list_lifecycle_policies()["lifecyclePolicySummaryList"]]',
      'try:',
      '  ib.get_lifecycle_policy(lifecyclePolicyArn=made["lifecyclePolicyArn"] + "-nope")',
      '  missing = None',
      'except botocore.exceptions.ClientError as e:',
      '  missing = e.response["Error"]["Code"]',
      'print(json.dumps({"arn": made["lifecyclePolicyArn"], "status": got["status"], "created": str(got["dateCreated"]), "names": names, "missing": missing}))',
    ].join('\n'));
    assert.equal(py.code, 0, py.stderr);
    assert.equal(py.json.arn, `arn:aws:imagebuilder:us-east-1:${ACCOUNT}:lifecycle-policy/boto-policy`);
    assert.equal(py.json.status, 'ENABLED');
    assert.ok(py.json.names.includes('cli-policy') && py.json.names.includes('boto-policy'));
    assert.equal(py.json.missing, 'ResourceNotFoundException');
  });

  test('policies and executions outlive a restart of the server', async () => {
    const { lifecyclePolicyArn: arn } = await ib.send(new CreateLifecyclePolicyCommand(request('restart-web')));
    const run = await waitForLifecycleExecution(ib, (await startLifecycleRun(server, arn!, 'run')).lifecycleExecutionId);
    await server.stop();
    server = await startServer({ dataDir, extraArgs: ['--sim-boot-ms', '100'] });
    ib.destroy();
    ib = new ImagebuilderClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: devCredentials(ACCOUNT), maxAttempts: 1 });
    const reread = await ib.send(new GetLifecycleExecutionCommand({ lifecycleExecutionId: run.lifecycleExecutionId }));
    assert.equal(reread.lifecycleExecution?.state?.status, run.state?.status);
    assert.deepEqual((await ib.send(new ListLifecycleExecutionsCommand({ resourceArn: arn }))).lifecycleExecutions!.map((e) => e.lifecycleExecutionId), [run.lifecycleExecutionId]);
    assert.equal((await ib.send(new GetLifecyclePolicyCommand({ lifecyclePolicyArn: arn }))).lifecyclePolicy?.status, 'ENABLED');
  });
});
