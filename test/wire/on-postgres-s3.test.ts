// A chosen set of the wire suites again, with every server on PostgreSQL and the RADOS Gateway
// (AMIFORGE_TEST_STORES=postgres-s3, test/support/wire-stores.ts), run as a child `node --test`.
// Which files and why: docs/postgres-metadata-store.md. Locally, any wire file runs that way:
//   AMIFORGE_TEST_STORES=postgres-s3 node --test test/wire/FILE.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer } from '../support/server.ts';

const FILES = ['tags-sdk', 'images-sdk', 'ebs-direct-sdk'];

const ROOT = new URL('../../', import.meta.url).pathname;

test('wire suites pass with servers on PostgreSQL and S3', { timeout: 600_000 }, async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, AMIFORGE_TEST_STORES: 'postgres-s3' };
  // Set by the runner in a test file: with it the child would refuse to run files (recursion).
  delete env.NODE_TEST_CONTEXT;
  // Loads the catalogue into the shared bucket first, so files started together (two at a time)
  // find its blocks there instead of each uploading 3 GB to the gateway at once.
  process.env.AMIFORGE_TEST_STORES = 'postgres-s3';
  const warm = await startServer();
  await warm.stop();

  const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...FILES.map((f) => `test/wire/${f}.test.ts`)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  // The spec reporter ends with the failures, each with its file and assertion.
  const failures = output.slice(output.lastIndexOf('failing tests:'));
  assert.equal(code, 0, `wire suites on PostgreSQL and S3 failed:\n${code === 1 && output.includes('failing tests:') ? failures : output.slice(-20_000)}`);
  assert.match(output, /ℹ fail 0/);
});
