// Stopping builds: CancelImageCreation while a component runs, and the start-up recovery of a
// build a previous process left in progress (its instances, AMIs and temporaries removed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARNS, fakeRunner, ME, seed, stepsOf, world } from './build-fakes.test-support.ts';
import type { ImageDoc } from './build-types.ts';
import { INTERRUPTED_REASON } from './build-service.ts';

/** A runner whose build phase waits until its signal aborts (a step that runs until cancelled). */
function blockingRunner() {
  let started!: () => void;
  const running = new Promise<void>((r) => { started = r; });
  const runner = fakeRunner((phase, signal) => phase !== 'build' ? { ok: true, steps: [] } : new Promise((_resolve, reject) => {
    started();
    signal!.addEventListener('abort', () => reject(signal!.reason), { once: true });
  }));
  return { runner, running };
}

test('CancelImageCreation stops the running step: CANCELLED, instance terminated, no temporary key pair or group', async () => {
  const { runner, running } = blockingRunner();
  const w = world({ runner });
  await seed(w);
  const { imageBuildVersionArn: arn } = await w.service.startBuild(ME, { imageRecipeArn: ARNS.recipe, infrastructureConfigurationArn: ARNS.infra, distributionConfigurationArn: ARNS.dist });
  await running;
  assert.equal((await w.service.get(ME, arn)).state?.status, 'BUILDING');
  assert.equal(w.ec2.live().length, 1);
  await w.service.cancel(ME, arn);
  await w.service.idle();
  const image = await w.service.get(ME, arn);
  assert.equal(image.state?.status, 'CANCELLED');
  assert.match(image.state!.reason!, /cancelled by CancelImageCreation/);
  assert.deepEqual(w.ec2.live(), []);
  assert.equal(w.ec2.keyPairs.size, 0);
  assert.equal(w.ec2.groups.size, 0);
  assert.deepEqual(await stepsOf(w, arn), ['BUILD LaunchBuildInstance COMPLETED', 'BUILD ApplyBuildComponents CANCELLED']);
  const [wf] = (await w.service.listWorkflowExecutions(ME, arn, {})).workflowExecutions!;
  assert.equal(wf.status, 'CANCELLED');
  // A finished build cannot be cancelled again; it can be deleted, its records with it.
  await assert.rejects(w.service.cancel(ME, arn), (err: Error & { code?: string }) => err.code === 'InvalidRequestException');
  await w.service.delete(ME, arn);
  await assert.rejects(w.service.get(ME, arn), (err: Error & { code?: string }) => err.code === 'ResourceNotFoundException');
  assert.deepEqual(await w.records.list({ kind: 'workflow-step-execution' }), []);
});

test('DeleteImage refuses a build in progress and leaves the AMIs of a finished one', async () => {
  const { runner, running } = blockingRunner();
  const w = world({ runner });
  await seed(w);
  const { imageBuildVersionArn: arn } = await w.service.startBuild(ME, { imageRecipeArn: ARNS.recipe, infrastructureConfigurationArn: ARNS.infra });
  await running;
  await assert.rejects(w.service.delete(ME, arn), (err: Error & { code?: string }) => err.code === 'ResourceInUseException');
  await w.service.cancel(ME, arn);
  await w.service.idle();

  const ok = world();
  await seed(ok);
  const { imageBuildVersionArn } = await ok.service.startBuild(ME, { imageRecipeArn: ARNS.recipe, infrastructureConfigurationArn: ARNS.infra, distributionConfigurationArn: ARNS.dist });
  await ok.service.idle();
  await ok.service.delete(ME, imageBuildVersionArn);
  assert.equal(ok.ec2.images.size, 2, 'DeleteImage leaves the AMIs, as AWS documents');
});

test('recovery at start-up fails a build left in progress and removes its instances, AMIs and temporaries', async () => {
  const w = world();
  await seed(w);
  // What a process that stopped mid-build left: a BUILDING record with its resources, a running step.
  const arn = `arn:aws:imagebuilder:us-east-1:${ME.account}:image/golden/1.2.3/1`;
  const instance = await w.ec2.runInstance(ME, { imageId: 'ami-1', instanceType: 't3.micro', securityGroupIds: [], keyName: 'k', tags: {} });
  await w.ec2.createKeyPair(ME, 'imagebuilder-left');
  const groupId = await w.ec2.createSshGroup();
  const ami = await w.ec2.createImage(ME, instance, 'half', undefined, {});
  const now = new Date().toISOString();
  const doc: ImageDoc = { arn, name: 'golden', version: '1.2.3/1', state: { status: 'BUILDING' }, buildResources: { instances: [instance], keyName: 'imagebuilder-left', groupId, images: [{ region: 'us-east-1', account: ME.account, imageId: ami }] } };
  await w.records.insert({ arn, kind: 'image', account: ME.account, region: ME.region, name: 'golden', version: '1.2.3', build: 1, state: 'BUILDING', doc: doc as Record<string, unknown>, createdAt: now, updatedAt: now });
  await w.records.insert({ arn: 'wf-1', kind: 'workflow-execution', account: ME.account, region: ME.region, name: 'wf-1', parent: arn, state: 'RUNNING', doc: { workflowExecutionId: 'wf-1', type: 'BUILD', status: 'RUNNING' }, createdAt: now, updatedAt: now });
  await w.records.insert({ arn: 'step-1', kind: 'workflow-step-execution', account: ME.account, region: ME.region, name: 'ApplyBuildComponents', parent: 'wf-1', state: 'RUNNING', doc: { stepExecutionId: 'step-1', name: 'ApplyBuildComponents', status: 'RUNNING' }, createdAt: now, updatedAt: now });

  assert.equal(await w.service.recover(), 1);
  const image = await w.service.get(ME, arn);
  assert.equal(image.state?.status, 'FAILED');
  assert.equal(image.state?.reason, INTERRUPTED_REASON);
  assert.deepEqual(w.ec2.live(), []);
  assert.equal(w.ec2.images.size, 0);
  assert.equal(w.ec2.keyPairs.size, 0);
  assert.equal(w.ec2.groups.size, 0);
  assert.equal((await w.service.getWorkflowExecution(ME, 'wf-1')).status, 'FAILED');
  assert.equal((await w.service.getWorkflowStepExecution(ME, 'step-1')).status, 'FAILED');
  assert.equal(await w.service.recover(), 0, 'nothing is left for a second start');
});
