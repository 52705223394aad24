// ComponentService, ClientTokenService and IbTagService over an in-memory store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { ALICE, BOB, DOC, resources } from './test-support.ts';

const create = (r: ReturnType<typeof resources>, name: string, version: string, extra = {}) =>
  r.components.create(ALICE, { name, semanticVersion: version, platform: 'Linux', data: DOC, clientToken: `${name}-${version}`, ...extra });

test('a component version is created once, with its document facts, and found by build, version and wildcard ARNs', async () => {
  const r = resources();
  const { componentBuildVersionArn: arn } = await create(r, 'Hello World', '1.2.3', { tags: { a: 'b' } });
  assert.equal(arn, 'arn:aws:imagebuilder:us-east-1:111111111111:component/hello-world/1.2.3/1');
  await create(r, 'Hello World', '1.10.0');
  await assert.rejects(create(r, 'hello world', '1.2.3'), { code: 'ResourceAlreadyExistsException' });
  const got = await r.components.get(ALICE, arn);
  assert.deepEqual(got.parameters, [{ name: 'greeting', type: 'string', defaultValue: ['hi'] }]);
  assert.equal(got.type, 'BUILD');
  assert.deepEqual(got.tags, { a: 'b' });
  const base = 'arn:aws:imagebuilder:us-east-1:111111111111:component/hello-world';
  assert.equal((await r.components.get(ALICE, `${base}/1.2.3`)).version, '1.2.3');
  assert.equal((await r.components.get(ALICE, `${base}/1.x.x`)).version, '1.10.0');
  assert.equal((await r.components.get(ALICE, `${base}/1.2.x`)).version, '1.2.3');
  await assert.rejects(r.components.get(ALICE, `${base}/2.x.x`), { code: 'ResourceNotFoundException' });
  await assert.rejects(r.components.get(BOB, arn), { code: 'ForbiddenException' });
});

test('uri, both or neither of data/uri, a bad version and a document the validator refuses are refused; dryRun creates nothing', async () => {
  const r = resources();
  await assert.rejects(create(r, 'c', '1.0.0', { data: undefined, uri: 's3://b/k' }), { code: 'InvalidParameterValueException', message: /S3/ });
  await assert.rejects(create(r, 'c', '1.0.0', { uri: 's3://b/k' }), { code: 'InvalidParameterCombinationException' });
  await assert.rejects(create(r, 'c', '1.0.0', { data: undefined }), { code: 'InvalidParameterCombinationException' });
  await assert.rejects(create(r, 'c', '01.0.0'), { code: 'InvalidVersionNumberException' });
  await assert.rejects(create(r, 'c', '1.0.0', { data: 'steps: []' }), /no phases/);
  await assert.rejects(create(r, 'c', '1.0.0', { dryRun: true }), { code: 'DryRunOperationException', status: 412 });
  await assert.rejects(create(r, 'c', '1.0.0', { tags: { 'aws:owner': 'x' } }), { code: 'InvalidParameterValueException', message: /aws:/ });
  assert.deepEqual((await r.components.list(ALICE, {})).componentVersionList, []);
});

test('ImportComponent turns a shell script into a document with one ExecuteBash step in the phase of its type', async () => {
  const r = resources();
  const { componentBuildVersionArn } = await r.components.import(ALICE, {
    name: 'script', semanticVersion: '1.0.0', type: 'TEST', format: 'SHELL', platform: 'Linux', data: '#!/bin/bash\necho ok\n', clientToken: 't',
  });
  const c = await r.components.get(ALICE, componentBuildVersionArn);
  assert.equal(c.type, 'TEST');
  const doc = parse(c.data!);
  assert.equal(doc.phases[0].name, 'test');
  assert.equal(doc.phases[0].steps[0].action, 'ExecuteBash');
  assert.deepEqual(doc.phases[0].steps[0].inputs.commands, ['#!/bin/bash\necho ok\n']);
});

test('lists: owners, filters, byName, pages of version ARNs; build versions; Amazon components', async () => {
  const amazon = [{ arn: 'arn:aws:imagebuilder:us-east-1:aws:component/update-linux/1.0.2/1', name: 'update-linux', version: '1.0.2', platform: 'Linux' as const, type: 'BUILD' as const, owner: 'Amazon', data: DOC }];
  const r = resources(amazon);
  for (const v of ['1.0.0', '1.1.0', '2.0.0']) await create(r, 'a', v);
  await create(r, 'b', '1.0.0');
  const all = await r.components.list(ALICE, {});
  assert.deepEqual(all.componentVersionList.map((c) => c.arn!.split('component/')[1]), ['a/1.0.0', 'a/1.1.0', 'a/2.0.0', 'b/1.0.0']);
  const filtered = await r.components.list(ALICE, { filters: [{ name: 'name', values: ['b'] }] });
  assert.equal(filtered.componentVersionList.length, 1);
  assert.deepEqual((await r.components.list(ALICE, { byName: true })).componentVersionList.map((c) => c.version), ['2.0.0', '1.0.0']);
  await assert.rejects(r.components.list(ALICE, { filters: [{ name: 'colour', values: ['x'] }] }), { code: 'InvalidParameterValueException' });
  const first = await r.components.list(ALICE, { maxResults: 3 });
  assert.equal(first.componentVersionList.length, 3);
  const second = await r.components.list(ALICE, { maxResults: 3, nextToken: first.nextToken });
  assert.deepEqual(second.componentVersionList.map((c) => c.name), ['b']);
  assert.equal(second.nextToken, undefined);
  await assert.rejects(r.components.list(ALICE, { nextToken: 'garbage' }), { code: 'InvalidPaginationTokenException' });
  assert.equal((await r.components.list(BOB, {})).componentVersionList.length, 0);
  assert.deepEqual((await r.components.list(ALICE, { owner: 'Amazon' })).componentVersionList.map((c) => c.name), ['update-linux']);
  assert.equal((await r.components.get(ALICE, 'arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x')).version, '1.0.2');
  const builds = await r.components.listBuildVersions(ALICE, { componentVersionArn: 'arn:aws:imagebuilder:us-east-1:111111111111:component/a/1.1.0' });
  assert.deepEqual(builds.componentSummaryList.map((c) => c.arn), ['arn:aws:imagebuilder:us-east-1:111111111111:component/a/1.1.0/1']);
});

test('client tokens: the same request gets the first answer, a different one IdempotentParameterMismatchException', async () => {
  const r = resources();
  let runs = 0;
  const act = async () => ({ n: ++runs });
  assert.deepEqual(await r.clientTokens.once(ALICE, 'CreateComponent', 'tok', { name: 'a', clientToken: 'tok' }, act), { n: 1 });
  assert.deepEqual(await r.clientTokens.once(ALICE, 'CreateComponent', 'tok', { clientToken: 'tok', name: 'a' }, act), { n: 1 });
  await assert.rejects(r.clientTokens.once(ALICE, 'CreateComponent', 'tok', { name: 'b', clientToken: 'tok' }, act), { code: 'IdempotentParameterMismatchException' });
  // Another account's token of the same value is its own.
  assert.deepEqual(await r.clientTokens.once(BOB, 'CreateComponent', 'tok', { name: 'b' }, act), { n: 2 });
  // A failed request leaves no answer: retrying with its token acts again.
  await assert.rejects(r.clientTokens.once(ALICE, 'CreateImageRecipe', 'f', {}, async () => { throw new Error('boom'); }), /boom/);
  assert.deepEqual(await r.clientTokens.once(ALICE, 'CreateImageRecipe', 'f', {}, act), { n: 3 });
});

test('tags live in the document; only the owner finds the resource; aws: keys and more than 50 tags are refused', async () => {
  const r = resources();
  const { componentBuildVersionArn: arn } = await create(r, 'c', '1.0.0', { tags: { keep: '1' } });
  await r.tags.tag(ALICE, arn, { a: 'b' });
  assert.deepEqual(await r.tags.list(ALICE, arn), { keep: '1', a: 'b' });
  assert.deepEqual((await r.components.get(ALICE, arn)).tags, { keep: '1', a: 'b' });
  await r.tags.untag(ALICE, arn, ['keep', 'absent']);
  assert.deepEqual(await r.tags.list(ALICE, arn), { a: 'b' });
  await assert.rejects(r.tags.list(BOB, arn), { code: 'ResourceNotFoundException' });
  await assert.rejects(r.tags.tag(ALICE, arn, { 'aws:x': '1' }), { code: 'InvalidParameterException' });
  await assert.rejects(r.tags.tag(ALICE, arn, Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']))), { code: 'InvalidParameterException' });
  await assert.rejects(r.tags.list(ALICE, 'not-an-arn'), { code: 'InvalidParameterException' });
});
