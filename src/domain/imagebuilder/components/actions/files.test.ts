// The file actions' scripts run for real, with the host's bash in a temporary folder standing in
// for the guest: contents (quotes, dollars, UTF-16), wildcards, folders as destinations, overwrite
// false, permissions, and the failures AWSTOE documents.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandResult, GuestSession, RunOptions } from '../../../../ports/guest-session.ts';
import { runComponents } from '../executor.ts';

/** Runs scripts with the host's bash, as the SSH session runs them in the guest. */
const localBash: GuestSession = {
  description: 'local bash',
  async run(script: string, opts: RunOptions): Promise<CommandResult> {
    const r = spawnSync('bash', ['-s'], { input: script, cwd: opts.cwd, timeout: opts.timeoutMs, encoding: 'utf8' });
    return { exitCode: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  },
  async reboot() {},
  async close() {},
};

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'amiforge-file-actions-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one build step with `action` and `inputs` (YAML, indented by the caller's template). */
async function step(action: string, inputs: string, opts: { workingDirectory?: string } = {}) {
  const data = `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: S\n        action: ${action}\n        inputs:\n${inputs.replace(/^/gm, '          ')}\n`;
  return runComponents('build', [{ arn: 'arn:aws:imagebuilder:us-east-1:111111111111:component/f/1.0.0/1', name: 'f', data }], localBash, opts);
}

const path = (...p: string[]) => join(dir, ...p);
const y = (s: string) => JSON.stringify(s);

test('CreateFile writes the content byte for byte, making the folders; overwrite false refuses an existing file', async () => {
  const content = `it's "quoted" $HOME \`date\` \\ and\nlines\n`;
  const ok = await step('CreateFile', `- path: ${y(path('a/b/c.txt'))}\n  content: ${y(content)}\n  permissions: '0640'\n- path: ${y(path('empty'))}`);
  assert.equal(ok.ok, true, ok.failure);
  assert.equal(readFileSync(path('a/b/c.txt'), 'utf8'), content);
  assert.equal(statSync(path('a/b/c.txt')).mode & 0o777, 0o640);
  assert.equal(readFileSync(path('empty'), 'utf8'), '');
  const again = await step('CreateFile', `- path: ${y(path('a/b/c.txt'))}\n  content: new\n  overwrite: false`);
  assert.equal(again.ok, false);
  assert.match(again.failure!, /CreateFile: .*a\/b\/c.txt already exists and overwrite is false$/);
  assert.equal(readFileSync(path('a/b/c.txt'), 'utf8'), content, 'untouched');
  const utf16 = await step('CreateFile', `- path: ${y(path('u16'))}\n  content: hé\n  encoding: utf-16`);
  assert.equal(utf16.ok, true);
  assert.deepEqual([...readFileSync(path('u16'))], [0x68, 0, 0xe9, 0]);
});

test('relative paths are relative to the working directory', async () => {
  const r = await step('CreateFile', '- path: rel/here.txt\n  content: x', { workingDirectory: dir });
  assert.equal(r.ok, true, r.failure);
  assert.equal(readFileSync(path('rel/here.txt'), 'utf8'), 'x');
});

test('AppendFile adds to an existing file and fails on a missing one', async () => {
  writeFileSync(path('log'), 'one\n');
  assert.equal((await step('AppendFile', `- path: ${y(path('log'))}\n  content: "two\\n"`)).ok, true);
  assert.equal(readFileSync(path('log'), 'utf8'), 'one\ntwo\n');
  const missing = await step('AppendFile', `- path: ${y(path('nope'))}\n  content: x`);
  assert.match(missing.failure!, /AppendFile: .*nope does not exist$/);
});

test('CopyFile and MoveFile: one file to a name, wildcards into a folder, overwrite false', async () => {
  for (const n of ['x1.log', 'x2.log', 'y.txt']) writeFileSync(path(n), n);
  assert.equal((await step('CopyFile', `- source: ${y(path('y.txt'))}\n  destination: ${y(path('copies/renamed.txt'))}`)).ok, true);
  assert.equal(readFileSync(path('copies/renamed.txt'), 'utf8'), 'y.txt');
  assert.equal((await step('CopyFile', `- source: ${y(path('x*.log'))}\n  destination: ${y(path('logs') + '/')}`)).ok, true);
  assert.deepEqual(readdirSync(path('logs')).sort(), ['x1.log', 'x2.log']);
  const noOverwrite = await step('CopyFile', `- source: ${y(path('y.txt'))}\n  destination: ${y(path('copies/renamed.txt'))}\n  overwrite: false`);
  assert.match(noOverwrite.failure!, /CopyFile: .*renamed.txt already exists and overwrite is false$/);
  assert.equal((await step('MoveFile', `- source: ${y(path('x*.log'))}\n  destination: ${y(path('moved') + '/')}`)).ok, true);
  assert.deepEqual(readdirSync(path('moved')).sort(), ['x1.log', 'x2.log']);
  assert.equal(existsSync(path('x1.log')), false, 'moved, not copied');
  const none = await step('MoveFile', `- source: ${y(path('zzz*'))}\n  destination: ${y(path('moved') + '/')}`);
  assert.match(none.failure!, /MoveFile: no file matches .*zzz\*$/);
});

test('DeleteFile removes a file or what a wildcard matches, and refuses a folder', async () => {
  for (const n of ['d1.tmp', 'd2.tmp', 'keep.txt']) writeFileSync(path(n), n);
  assert.equal((await step('DeleteFile', `- path: ${y(path('d*.tmp'))}\n- path: ${y(path('never-existed'))}`)).ok, true);
  assert.equal(existsSync(path('d1.tmp')) || existsSync(path('d2.tmp')), false);
  assert.equal(existsSync(path('keep.txt')), true);
  const folder = await step('DeleteFile', `- path: ${y(path('logs'))}`);
  assert.match(folder.failure!, /DeleteFile: .*logs is a folder$/);
});

test('CreateFolder makes folders with permissions; SetFilePermissions changes a mode and needs the file', async () => {
  assert.equal((await step('CreateFolder', `- path: ${y(path('f/g/h'))}\n  permissions: 700`)).ok, true);
  assert.equal(statSync(path('f/g/h')).mode & 0o777, 0o700);
  const exists = await step('CreateFolder', `- path: ${y(path('f/g/h'))}\n  overwrite: false`);
  assert.match(exists.failure!, /CreateFolder: .*f\/g\/h already exists and overwrite is false$/);
  writeFileSync(path('script.sh'), 'echo hi');
  assert.equal((await step('SetFilePermissions', `- path: ${y(path('script.sh'))}\n  permissions: u+x,go-rwx`)).ok, true);
  assert.equal(statSync(path('script.sh')).mode & 0o777, 0o700);
  const missing = await step('SetFilePermissions', `- path: ${y(path('nope.sh'))}\n  permissions: 755`);
  assert.match(missing.failure!, /SetFilePermissions: .*nope.sh does not exist$/);
});

test('ExecuteBinary passes its arguments as they are; ExecuteBash runs its commands as one script', async () => {
  const bin = await step('ExecuteBinary', `path: /bin/echo\narguments: ["a b", "$HOME", "it's"]`);
  assert.equal(JSON.parse(bin.steps[0].output).stdout, "a b $HOME it's");
  const script = await step('ExecuteBash', 'commands:\n  - x=1\n  - |\n    if [ "$x" = 1 ]; then echo "x is $x"; fi');
  assert.equal(JSON.parse(script.steps[0].output).stdout, 'x is 1');
  const failing = await step('ExecuteBash', 'commands:\n  - echo to-stderr >&2\n  - exit 5');
  assert.match(failing.failure!, /failed after 1 attempt: exit status 5: to-stderr$/);
});
