// The phase executor over guest sessions that run nothing real: the simulator's (which reads
// `echo`, `exit N`, `sleep N`) and small fakes for retries and reboots. The file actions' scripts
// run for real in actions/files.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandResult, GuestSession, RunOptions } from '../../../ports/guest-session.ts';
import { SimGuestSession } from '../../../adapters/sim/sim-guest-session.ts';
import { runComponents, type ComponentToRun } from './executor.ts';

const doc = (phases: string, extra = '') => `schemaVersion: 1.0\n${extra}phases:\n${phases}`;
const component = (name: string, data: string, parameters?: ComponentToRun['parameters']): ComponentToRun =>
  ({ arn: `arn:aws:imagebuilder:us-east-1:111111111111:component/${name}/1.0.0/1`, name, data, parameters });
const bash = (name: string, commands: string[], more = '') =>
  `      - name: ${name}\n        action: ExecuteBash\n${more}        inputs:\n          commands:\n${commands.map((c) => `            - ${JSON.stringify(c)}\n`).join('')}`;
const build = (...steps: string[]) => `  - name: build\n    steps:\n${steps.join('')}`;

/** A session whose answers come from a function of the script and how often it ran. */
class ScriptedSession implements GuestSession {
  readonly description = 'scripted';
  readonly runs: string[] = [];
  reboots = 0;
  private readonly answer: (script: string, n: number) => Partial<CommandResult>;
  constructor(answer: (script: string, n: number) => Partial<CommandResult>) {
    this.answer = answer;
  }
  async run(script: string, _opts: RunOptions): Promise<CommandResult> {
    this.runs.push(script);
    return { exitCode: 0, stdout: '', stderr: '', ...this.answer(script, this.runs.filter((s) => s === script).length) };
  }
  async reboot(): Promise<void> { this.reboots++; }
  async close(): Promise<void> {}
}

test('steps run in document order, components in the order given; outputs chain, loops join their outputs', async () => {
  const session = new SimGuestSession();
  const first = component('first', doc(build(
    bash('Hello', ['echo hello {{ Who }}']),
    bash('Each', ['echo "{{ loop.index }}:{{ loop.value }}"'], '        loop:\n          forEach: [a, b, c]\n'),
    bash('Count', ['echo {{ n.value }}'], '        loop:\n          name: n\n          for: { start: 10, end: 6, updateBy: -2 }\n'),
    bash('Chained', ['echo "got {{ build.Hello.outputs.stdout }} after {{ build.Each.inputs.commands }}"']),
  ), 'parameters:\n  - Who:\n      type: string\n      default: world\n'));
  const second = component('second', doc(build(bash('Split', ['echo {{ loop.value }}'], "        loop:\n          forEach: { list: 'x y', delimiter: ' ' }\n"))));
  const logs: string[] = [];
  const outcome = await runComponents('build', [first, second], session, { onLog: (l) => logs.push(l) });
  assert.equal(outcome.ok, true, outcome.failure);
  assert.deepEqual(outcome.steps.map((s) => `${s.component}/${s.step}:${s.status}`), ['first/Hello:COMPLETED', 'first/Each:COMPLETED', 'first/Count:COMPLETED', 'first/Chained:COMPLETED', 'second/Split:COMPLETED']);
  const out = outcome.steps.map((s) => JSON.parse(s.output).stdout);
  assert.deepEqual(out, ['hello world', '0:a\n1:b\n2:c', '10\n8\n6', 'got hello world after echo "2:c"', 'x\ny']);
  assert.ok(logs.some((l) => l.startsWith('first/build/Hello: ')), 'onLog hears each step');
  assert.match(outcome.steps[0].log, /attempt 1 of 1: ExecuteBash\n.*stdout:\nhello world\n.*completed/s);
  assert.ok(outcome.steps.every((s) => s.phase === 'build' && s.startTime <= s.endTime && s.attempts === 1));
});

test('a recipe value overrides the default; a parameter with neither fails the phase', async () => {
  const data = doc(build(bash('Say', ['echo {{ Who }} {{ Where }}'])), 'parameters:\n  - Who:\n      type: string\n      default: world\n  - Where:\n      type: string\n');
  const given = await runComponents('build', [component('c', data, [{ name: 'Who', value: ['you'] }, { name: 'Where', value: ['here', 'there'] }, { name: 'Unused', value: ['x'] }])], new SimGuestSession(), {});
  assert.equal(JSON.parse(given.steps[0].output).stdout, 'you here,there');
  const missing = await runComponents('build', [component('c', data)], new SimGuestSession(), {});
  assert.equal(missing.ok, false);
  assert.match(missing.failure!, /^Component c, phase build: the parameter 'Where' has no default and the recipe gives no value$/);
  assert.deepEqual(missing.steps.map((s) => s.status), ['SKIPPED']);
});

test('onFailure Abort stops the phase: the rest, later components included, are SKIPPED', async () => {
  const session = new SimGuestSession();
  const outcome = await runComponents('build', [
    component('a', doc(build(bash('Ok', ['echo fine']), bash('Breaks', ['echo trying', 'exit 3']), bash('After', ['echo never'])))),
    component('b', doc(build(bash('Later', ['echo never'])))),
  ], session, {});
  assert.equal(outcome.ok, false);
  assert.equal(outcome.failure, 'Component a, phase build, step Breaks (ExecuteBash) failed after 1 attempt: exit status 3');
  assert.deepEqual(outcome.steps.map((s) => s.status), ['COMPLETED', 'FAILED', 'SKIPPED', 'SKIPPED']);
  assert.match(outcome.steps[2].log, /skipped: an earlier step failed with onFailure Abort/);
  assert.equal(session.scripts.length, 2, 'nothing ran after the failure');
});

test('onFailure Continue goes on and fails the phase; Ignore goes on and the phase succeeds', async () => {
  const cont = await runComponents('build', [component('a', doc(build(bash('Breaks', ['exit 1'], '        onFailure: Continue\n'), bash('After', ['echo ran']))))], new SimGuestSession(), {});
  assert.equal(cont.ok, false);
  assert.match(cont.failure!, /step Breaks \(ExecuteBash\) failed after 1 attempt: exit status 1/);
  assert.deepEqual(cont.steps.map((s) => s.status), ['FAILED', 'COMPLETED']);
  const ignore = await runComponents('build', [component('a', doc(build(bash('Breaks', ['false'], '        onFailure: Ignore\n'), bash('After', ['echo ran']))))], new SimGuestSession(), {});
  assert.equal(ignore.ok, true);
  assert.equal(ignore.failure, undefined);
  assert.deepEqual(ignore.steps.map((s) => s.status), ['FAILED', 'COMPLETED']);
  assert.match(ignore.steps[0].log, /onFailure: Ignore, so the failure is ignored/);
});

test('maxAttempts retries a failing step; it succeeds on the third attempt', async () => {
  const session = new ScriptedSession((_s, n) => (n < 3 ? { exitCode: 7, stderr: `not yet ${n}\n` } : { stdout: 'done\n' }));
  const outcome = await runComponents('build', [component('a', doc(build(bash('Flaky', ['flaky-thing'], '        maxAttempts: 3\n'))))], session, {});
  assert.equal(outcome.ok, true);
  assert.equal(outcome.steps[0].attempts, 3);
  assert.match(outcome.steps[0].log, /attempt 1 failed: exit status 7: not yet 1\n.*attempt 2 failed: exit status 7: not yet 2\n.*completed/s);
  const never = new ScriptedSession(() => ({ exitCode: 2 }));
  const failed = await runComponents('build', [component('a', doc(build(bash('Never', ['x'], '        maxAttempts: 2\n'))))], never, {});
  assert.equal(failed.steps[0].attempts, 2);
  assert.match(failed.failure!, /failed after 2 attempts: exit status 2$/);
});

test('timeoutSeconds stops a step that runs too long, a loop counting all its iterations', async () => {
  const outcome = await runComponents('build', [component('a', doc(build(bash('Slow', ['sleep 30'], '        timeoutSeconds: 1\n'))))], new SimGuestSession(), {});
  assert.equal(outcome.ok, false);
  assert.match(outcome.failure!, /step Slow \(ExecuteBash\) failed after 1 attempt: timed out after 1 s$/);
  const loop = await runComponents('build', [component('a', doc(build(bash('SlowLoop', ['sleep 0.6'], '        timeoutSeconds: 1\n        loop:\n          forEach: [a, b, c]\n'))))], new SimGuestSession(), {});
  assert.equal(loop.ok, false);
  assert.match(loop.failure!, /failed after 1 attempt: (iteration 1: timed out after 1 s|timed out after 1 s at iteration 2)$/);
});

test('exit 194 reboots the guest and runs the same step again; Reboot reboots', async () => {
  const session = new ScriptedSession((_s, n) => (n === 1 ? { exitCode: 194, stdout: 'rebooting\n' } : { stdout: 'after reboot\n' }));
  const outcome = await runComponents('build', [component('a', doc(build(
    bash('NeedsReboot', ['touch /var/tmp/x']),
    '      - name: Restart\n        action: Reboot\n',
  )))], session, {});
  assert.equal(outcome.ok, true, outcome.failure);
  assert.equal(session.reboots, 2, 'one for exit 194, one for the Reboot step');
  assert.equal(outcome.steps[0].attempts, 1, 'a reboot is not a failed attempt');
  assert.equal(JSON.parse(outcome.steps[0].output).stdout, 'after reboot');
  assert.match(outcome.steps[0].log, /exit 194: rebooting the guest, then running the step again/);
  const forever = await runComponents('build', [component('a', doc(build(bash('Loops', ['exit 194']))))], new SimGuestSession(), {});
  assert.match(forever.failure!, /asked for a reboot \(exit 194\) more than 8 times/);
});

test('Assert compares chained outputs here; a false one fails the step', async () => {
  const assertStep = (name: string, op: string, expected: string) =>
    `      - name: ${name}\n        action: Assert\n        inputs:\n          ${op}: ${JSON.stringify(expected)}\n          value: '{{ build.Say.outputs.stdout }}'\n`;
  const outcome = await runComponents('build', [component('a', doc(build(
    bash('Say', ['echo 42']),
    assertStep('Equal', 'stringEquals', '42'),
    assertStep('Bigger', 'numberGreaterThan', '41.5'),
    assertStep('Pattern', 'patternMatches', '^4\\d$'),
    assertStep('Wrong', 'numberLessThan', '10'),
  )))], new SimGuestSession(), {});
  assert.deepEqual(outcome.steps.map((s) => s.status), ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED']);
  assert.match(outcome.failure!, /step Wrong \(Assert\) failed after 1 attempt: assertion failed: "42" numberLessThan "10"$/);
});

test('a step whose if does not hold is SKIPPED; fileExists asks the guest', async () => {
  const session = new ScriptedSession((s) => ({ exitCode: s.startsWith('test ') && !s.includes('/etc/present') ? 1 : 0 }));
  const outcome = await runComponents('build', [component('a', doc(build(
    bash('Never', ['echo no'], "        if:\n          stringIsEmpty: 'x'\n"),
    bash('Present', ['echo yes'], '        if:\n          fileExists: /etc/present\n'),
    bash('Absent', ['echo no'], '        if:\n          or:\n            - fileExists: /etc/absent\n            - numberEquals: 2\n              value: 3\n'),
  )))], session, {});
  assert.equal(outcome.ok, true);
  assert.deepEqual(outcome.steps.map((s) => s.status), ['SKIPPED', 'COMPLETED', 'SKIPPED']);
  assert.match(outcome.steps[0].log, /if stringIsEmpty "x": false, so the step is skipped/);
});

test('validate chains from build when the same session ran it; the test phase only sees its own steps', async () => {
  const data = doc(`${build(bash('Make', ['echo built']))}  - name: validate\n    steps:\n${bash('Check', ['echo "saw {{ build.Make.outputs.stdout }}"'])}`);
  const c = component('a', data);
  const session = new SimGuestSession();
  await runComponents('build', [c], session, {});
  const validate = await runComponents('validate', [c], session, {});
  assert.equal(JSON.parse(validate.steps[0].output).stdout, 'saw built');
  const elsewhere = await runComponents('validate', [c], new SimGuestSession(), {});
  assert.equal(elsewhere.ok, false);
  assert.match(elsewhere.failure!, /refers to the step build.Make, which has not run in this phase/);
  const none = await runComponents('test', [c], session, {});
  assert.deepEqual(none, { ok: true, steps: [] }, 'a component without the phase contributes nothing');
});

test('a document that is not valid fails the phase naming the component', async () => {
  const outcome = await runComponents('build', [component('bad', 'schemaVersion: 1.0\nphases: [')], new SimGuestSession(), {});
  assert.equal(outcome.ok, false);
  assert.match(outcome.failure!, /^Component bad: The value supplied for parameter 'data' is not a valid component document: malformed YAML/);
});

test('cancelling stops the running step and skips the rest', async () => {
  const controller = new AbortController();
  const run = runComponents('build', [component('a', doc(build(bash('Long', ['sleep 30']), bash('Next', ['echo no']))))], new SimGuestSession(), { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('cancelled by the user')), 50);
  const outcome = await run;
  assert.equal(outcome.ok, false);
  assert.equal(outcome.failure, 'Component a, phase build, step Long: the run was cancelled');
  assert.deepEqual(outcome.steps.map((s) => s.status), ['FAILED', 'SKIPPED']);
});

test('the working directory reaches the session', async () => {
  const seen: (string | undefined)[] = [];
  const session = new ScriptedSession(() => ({}));
  const orig = session.run.bind(session);
  session.run = async (script, opts) => { seen.push(opts.cwd); return orig(script, opts); };
  await runComponents('build', [component('a', doc(build(bash('Here', ['pwd']))))], session, { workingDirectory: '/var/tmp/build' });
  assert.deepEqual(seen, ['/var/tmp/build']);
});
