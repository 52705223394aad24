// Amazon's components: valid documents, Image Builder's ARNs and wire shape, and each one's phases
// pass on the simulator's session (their scripts are written so they do).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimGuestSession } from '../../../adapters/sim/sim-guest-session.ts';
import { amazonComponents, HYGIENE_SCAN_COMPONENT } from './amazon-components.ts';
import { validateComponentDocument } from './document.ts';
import { runComponents } from './executor.ts';

test('the managed components: names, ARNs with owner aws, owner Amazon, platform Linux, valid data', () => {
  const all = amazonComponents('eu-west-1');
  assert.deepEqual(all.map((c) => c.name), ['update-linux', 'reboot-linux', 'simple-boot-test-linux', 'reboot-test-linux', HYGIENE_SCAN_COMPONENT]);
  assert.equal(all[0].arn, 'arn:aws:imagebuilder:eu-west-1:aws:component/update-linux/1.0.2/1');
  for (const c of all) {
    assert.equal(c.owner, 'Amazon');
    assert.equal(c.platform, 'Linux');
    assert.match(c.arn!, new RegExp(`^arn:aws:imagebuilder:eu-west-1:aws:component/${c.name}/${c.version!.replace(/\./g, '\\.')}/1$`));
    assert.deepEqual(c.state, { status: 'ACTIVE' });
    validateComponentDocument(c.data!);
  }
  assert.deepEqual(all.filter((c) => c.type === 'TEST').map((c) => c.name), ['simple-boot-test-linux', 'reboot-test-linux', HYGIENE_SCAN_COMPONENT]);
});

test('every managed component passes on the simulator, in build, validate and test', async () => {
  const session = new SimGuestSession();
  const components = amazonComponents('us-east-1').map((c) => ({ arn: c.arn!, name: c.name!, data: c.data! }));
  for (const phase of ['build', 'validate', 'test'] as const) {
    const outcome = await runComponents(phase, components, session, {});
    assert.equal(outcome.ok, true, `${phase}: ${outcome.failure}`);
  }
  assert.equal(session.reboots, 3, 'reboot-linux, simple-boot-test-linux and reboot-test-linux each reboot once');
});
