import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteMetadataStore } from '../../../adapters/sqlite/sqlite-store.ts';
import { DependencyResolver, dependenciesChanged } from './dependency-versions.ts';
import { ALICE, BOB, addComponent, componentArn } from './test-fixtures.ts';

const amazon = (name: string, version: string, build = 1) => `arn:aws:imagebuilder:us-east-1:aws:component/${name}/${version}/${build}`;

async function resolver() {
  const store = new SqliteMetadataStore(':memory:').imageBuilder;
  await addComponent(store, ALICE, 'harden', '1.0.0');
  await addComponent(store, ALICE, 'harden', '1.2.0');
  await addComponent(store, ALICE, 'harden', '1.2.0', 3);
  await addComponent(store, ALICE, 'harden', '2.0.0');
  // Another account's component of the same name never counts.
  await addComponent(store, BOB, 'harden', '1.9.0');
  const amazonComponents = (region: string) => region === 'us-east-1'
    ? [{ arn: amazon('update-linux', '1.0.2') }, { arn: amazon('update-linux', '1.0.10') }, { arn: amazon('reboot-linux', '1.0.1') }]
    : [];
  return new DependencyResolver({ store, amazonComponents });
}

test('components resolve to the newest matching build version', async () => {
  const r = await resolver();
  const resolved = await r.resolve({
    parentImage: 'ami-0123456789abcdef0',
    components: [
      { componentArn: componentArn(ALICE, 'harden', '1.x.x') },
      { componentArn: componentArn(ALICE, 'harden', 'x.x.x') },
      { componentArn: componentArn(ALICE, 'harden', '1.2.0') },
      { componentArn: componentArn(ALICE, 'harden', '1.0.0', 1) },
      { componentArn: componentArn(ALICE, 'missing', '1.x.x') },
      { componentArn: amazon('update-linux', 'x.x.x').replace(/\/1$/, '') },
      { componentArn: 'arn:aws:imagebuilder:us-east-1:aws:component/reboot-linux/1.0.1' },
    ],
  });
  assert.deepEqual(resolved, {
    parentImage: 'ami-0123456789abcdef0',
    components: [
      componentArn(ALICE, 'harden', '1.2.0', 3),
      componentArn(ALICE, 'harden', '2.0.0', 1),
      componentArn(ALICE, 'harden', '1.2.0', 3),
      componentArn(ALICE, 'harden', '1.0.0', 1),
      componentArn(ALICE, 'missing', '1.x.x'),
      amazon('update-linux', '1.0.10'),
      amazon('reboot-linux', '1.0.1'),
    ],
  });
});

test('changes are any difference, in the parent or a component', () => {
  const a = { parentImage: 'ami-1', components: ['x', 'y'] };
  assert.equal(dependenciesChanged(a, { parentImage: 'ami-1', components: ['x', 'y'] }), false);
  assert.equal(dependenciesChanged(a, { parentImage: 'ami-2', components: ['x', 'y'] }), true);
  assert.equal(dependenciesChanged(a, { parentImage: 'ami-1', components: ['x', 'z'] }), true);
  assert.equal(dependenciesChanged(a, { parentImage: 'ami-1', components: ['x'] }), true);
});
