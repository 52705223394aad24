// `amiforge serve --log-format pretty`: readable lines even when stdout is not a terminal, with
// each request's service, action, status, latency and the error's code and message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DescribeImagesCommand, DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import { devCredentials, ec2Client } from '../support/clients.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let dataDir: string;
let child: ChildProcess;
const lines: string[] = [];
let endpoint: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'amiforge-log-pretty-'));
  child = spawn(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', '--data-dir', dataDir, '--log-format', 'pretty'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const listening = / INFO  amiforge listening .*\bport=(\d+)/.exec(line);
      if (listening) resolve(listening[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${lines.join('\n')}`)));
  });
  endpoint = `http://127.0.0.1:${port}`;
});
after(async () => {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  rmSync(dataDir, { recursive: true, force: true });
});

/** Waits for the log line that matches (a request's line follows its answer). */
async function logLine(pattern: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const found = lines.find((l) => pattern.test(l));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`no log line matched ${pattern}:\n${lines.join('\n')}`);
}

test('a request and a refused request, as readable lines; no JSON on stdout', async () => {
  const ec2 = ec2Client(endpoint, devCredentials('111111111111'));
  await ec2.send(new DescribeRegionsCommand({}));
  await assert.rejects(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-12345678'] })), { name: 'InvalidAMIID.NotFound' });
  const ok = await logLine(/ DescribeRegions /);
  assert.match(ok, /^\d\d:\d\d:\d\d\.\d{3}Z INFO  ec2 DescribeRegions 200 [\d.]+ ms 111111111111 us-east-1$/);
  const refused = await logLine(/ DescribeImages /);
  assert.match(refused, /^\d\d:\d\d:\d\d\.\d{3}Z INFO  ec2 DescribeImages 400 [\d.]+ ms 111111111111 us-east-1  InvalidAMIID\.NotFound: The image id '\[ami-12345678\]' does not exist$/);
  assert.ok(!lines.some((l) => l.startsWith('{')), 'no JSON line');
});
