// Builds that fail: a failing build step, a kept build instance, a failing test, the hygiene
// component, a distribution rolled back, the hygiene gate before sharing (and its opt-out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARNS, build, fakeRunner, ME, seed, step, stepsOf, world } from './build-fakes.test-support.ts';
import type { HygieneGate } from './build-types.ts';

const highFindings: HygieneGate = {
  scan: async (_c, imageId) => ({ imageId, findings: [
    { severity: 'HIGH', kind: 'ssh-host-key', path: '/etc/ssh/ssh_host_ed25519_key', detail: 'an SSH host private key' },
    { severity: 'MEDIUM', kind: 'machine-id', path: '/etc/machine-id', detail: 'a kept machine-id' },
  ] }),
};

test('a failing build step fails the build with its output; the instance is terminated, nothing is left', async () => {
  const w = world({ runner: fakeRunner((phase) => phase === 'build'
    ? { ok: false, failure: "Step 'Say' of component 'hello' failed: exit status 3", steps: [step('build', 'FAILED', 'no such package')] }
    : { ok: true, steps: [] }) });
  await seed(w);
  const { arn, image } = await build(w);
  assert.equal(image.state?.status, 'FAILED');
  assert.match(image.state!.reason!, /exit status 3/);
  assert.equal(image.outputResources, undefined);
  assert.deepEqual(w.ec2.live(), []);
  assert.equal(w.ec2.images.size, 0);
  assert.equal(w.ec2.keyPairs.size, 0);
  assert.equal(w.ec2.groups.size, 0);
  assert.deepEqual(await stepsOf(w, arn), ['BUILD LaunchBuildInstance COMPLETED', 'BUILD ApplyBuildComponents FAILED']);
  const [wf] = (await w.service.listWorkflowExecutions(ME, arn, {})).workflowExecutions!;
  assert.equal(wf.status, 'FAILED');
  const steps = (await w.service.listWorkflowStepExecutions(ME, wf.workflowExecutionId!, {})).steps!;
  assert.match(steps[1].message!, /exit status 3/);
  assert.match(JSON.parse(steps[1].outputs!).log, /hello build\/Say \(ExecuteBash\): FAILED\n  no such package/);
});

test('terminateInstanceOnFailure false keeps the build instance (and the group it uses); the key pair goes', async () => {
  const w = world({ runner: fakeRunner((phase) => ({ ok: phase !== 'validate', failure: 'validation failed', steps: [] })) });
  await seed(w, { infra: { terminateInstanceOnFailure: false } });
  const { image } = await build(w);
  assert.equal(image.state?.status, 'FAILED');
  assert.match(image.state!.reason!, /validation failed.*was kept \(terminateInstanceOnFailure is false\)/);
  assert.equal(w.ec2.live().length, 1);
  assert.equal(w.ec2.keyPairs.size, 0);
  assert.equal(w.ec2.groups.size, 1);
});

test('a failing test fails the build: both instances are terminated and the new AMI is deregistered', async () => {
  const w = world({ runner: fakeRunner((phase) => ({ ok: phase !== 'test', failure: 'the file is missing', steps: [] })) });
  await seed(w);
  const { arn, image } = await build(w);
  assert.equal(image.state?.status, 'FAILED');
  assert.match(image.state!.reason!, /the file is missing/);
  assert.deepEqual(w.ec2.live(), []);
  assert.equal(w.ec2.images.size, 0);
  assert.deepEqual((await stepsOf(w, arn)).slice(5), ['TEST LaunchTestInstance COMPLETED', 'TEST RunTestSuite FAILED']);
});

test('the hygiene component scans the new AMI offline in the test phase; a HIGH finding fails the test', async () => {
  const scanned: string[] = [];
  const w = world({ hygiene: { scan: async (c, id) => { scanned.push(id); return highFindings.scan(c, id); } } });
  await seed(w, { recipe: { components: [{ componentArn: ARNS.component }, { componentArn: ARNS.scanComponent }] } });
  const { image } = await build(w);
  assert.equal(image.state?.status, 'FAILED');
  assert.match(image.state!.reason!, /amiforge-hygiene-scan-linux: 1 high-severity hygiene finding\(s\): ssh-host-key at \/etc\/ssh\/ssh_host_ed25519_key/);
  assert.equal(scanned.length, 1);
  assert.deepEqual(w.runner.phases, ['build:hello,amiforge-hygiene-scan-linux', 'validate:hello,amiforge-hygiene-scan-linux', 'test:hello'],
    'the scan component is not sent to the guest in the test phase');
});

test('a distribution whose second region fails is rolled back: the copies made are deregistered', async () => {
  const w = world();
  await seed(w, { dist: [
    { region: 'us-west-2', amiDistributionConfiguration: { name: 'a' } },
    { region: 'eu-west-1', amiDistributionConfiguration: { name: 'b' } },
  ] });
  w.ec2.failCopyTo = 'eu-west-1';
  const { arn, image } = await build(w);
  assert.equal(image.state?.status, 'FAILED');
  assert.match(image.state!.reason!, /CopyImage to eu-west-1 failed/);
  assert.ok(w.ec2.calls.includes('CopyImage 111111111111/us-west-2 a'));
  assert.equal(w.ec2.images.size, 0, 'the us-west-2 copy and the intermediate image are gone');
  assert.ok((await stepsOf(w, arn)).includes('DISTRIBUTION DistributeImage FAILED'));
});

test('the hygiene gate: a HIGH finding stops a share outside the account, before any copy', async () => {
  const w = world({ hygiene: highFindings });
  await seed(w, { dist: [{ region: 'us-east-1', amiDistributionConfiguration: { name: 'public', launchPermission: { userGroups: ['all'] } } }] });
  const { arn, image } = await build(w);
  assert.equal(image.state?.status, 'FAILED');
  assert.match(image.state!.reason!, /not shared outside its account: 1 high-severity hygiene finding/);
  assert.equal(w.ec2.images.size, 0);
  const wfs = (await w.service.listWorkflowExecutions(ME, arn, {})).workflowExecutions!;
  const scan = (await w.service.listWorkflowStepExecutions(ME, wfs.at(-1)!.workflowExecutionId!, {})).steps![0];
  assert.equal(scan.name, 'ScanBeforeSharing');
  assert.match(JSON.parse(scan.outputs!).log, /HIGH ssh-host-key \/etc\/ssh\/ssh_host_ed25519_key[\s\S]*MEDIUM machine-id/);
  const stored = (await w.records.get(arn))!.doc.hygieneScan as { report: { findings: unknown[] } };
  assert.equal(stored.report.findings.length, 2, 'the scan is kept on the image record for ListImageScanFindings');
});

test('the recipe tag amiforge:hygiene=skip opts out of the gate; a share inside the account is not gated', async () => {
  const w = world({ hygiene: highFindings });
  await seed(w, {
    recipe: { tags: { 'amiforge:hygiene': 'skip' } },
    dist: [{ region: 'us-east-1', amiDistributionConfiguration: { name: 'public', launchPermission: { userGroups: ['all'] } } }],
  });
  const { arn, image } = await build(w);
  assert.equal(image.state?.status, 'AVAILABLE', image.state?.reason);
  assert.ok((await stepsOf(w, arn)).includes('DISTRIBUTION ScanBeforeSharing SKIPPED'));

  const inside = world({ hygiene: highFindings });
  await seed(inside, { dist: [{ region: 'us-east-1', amiDistributionConfiguration: { name: 'mine', launchPermission: { userIds: [ME.account] } } }] });
  const mine = await build(inside);
  assert.equal(mine.image.state?.status, 'AVAILABLE', mine.image.state?.reason);
});

test('a parent image that is not an AMI id nor an available Image Builder image is refused at CreateImage', async () => {
  const w = world();
  await seed(w, { recipe: { parentImage: `arn:aws:imagebuilder:us-east-1:${ME.account}:image/nothing/1.0.0/1` } });
  await assert.rejects(w.service.startBuild(ME, { imageRecipeArn: ARNS.recipe, infrastructureConfigurationArn: ARNS.infra }),
    (err: Error & { code?: string }) => err.code === 'InvalidParameterValueException' && /has no available AMI/.test(err.message));
  assert.deepEqual(await w.records.list({ kind: 'image' }), []);
});
