// The README's shell examples run as written, so they cannot drift from what amiforge does. Each
// ```sh block is marked on the line before it: `<!-- readme-test -->` runs it; `<!-- readme-test:
// no (why) -->` says why it cannot run here (QEMU, packer, a cluster, ...). An unmarked block
// fails the test. The runnable blocks run in order with bash, as a reader would in one shell:
// each sees the variables the earlier ones exported, against a fresh dev-mode server whose
// endpoint replaces the README's http://127.0.0.1:4566. Nothing of this machine's AWS set-up is
// passed on (no AWS_* variables, an empty HOME), so a missing region or key shows. Each must exit
// 0, and print what a `# shows: TEXT` comment in it promises. (The Image Builder example starts
// from the catalogue's Debian 12, which npm test's setup builds: scripts/build-debian-image.sh.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../support/server.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const README_ENDPOINT = 'http://127.0.0.1:4566';

interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  text: string;
  /** `run`, `no` (with its reason), or undefined when unmarked. */
  mark?: { run: true } | { run: false; why: string };
}

/** Every ```sh block of the README with the marker on the line before it. */
function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```sh\s*$/.test(lines[i])) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    assert.ok(end > i, `README.md:${i + 1}: a sh block that never closes`);
    const before = lines[i - 1] ?? '';
    const no = /^<!-- readme-test: no \((.+)\) -->$/.exec(before);
    const mark = before === '<!-- readme-test -->' ? { run: true as const } : no ? { run: false as const, why: no[1] } : undefined;
    blocks.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n'), mark });
    i = end;
  }
  return blocks;
}

/** The environment a reader's fresh shell has, minus anything AWS-related of this machine. */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: home };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && k !== 'HOME') env[k] = v;
  return env;
}

const blocks = shellBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));

test('every sh block of the README is marked as run here or not, with why', () => {
  const unmarked = blocks.filter((b) => !b.mark).map((b) => `README.md:${b.line}`);
  assert.deepEqual(unmarked, [], 'mark each with <!-- readme-test --> or <!-- readme-test: no (why) --> on the line before');
  assert.ok(blocks.some((b) => b.mark?.run), 'at least one example runs');
});

describe('the runnable README examples, in order, in one shell', () => {
  let server: RunningServer;
  let work: string;
  before(async () => {
    // No boot time: the examples' waiters find their instances running at their first poll.
    server = await startServer({ extraArgs: ['--sim-boot-ms', '0'] });
    work = mkdtempSync(join(tmpdir(), 'amiforge-readme-'));
  });
  after(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const block of blocks.filter((b) => b.mark?.run)) {
    test(`README.md:${block.line}: ${block.text.split('\n')[0].slice(0, 70)}`, async () => {
      const state = join(work, 'exported.sh');
      const script = [
        'set -eu -o pipefail',
        `if [ -f '${state}' ]; then source '${state}'; fi`,
        block.text.replaceAll(README_ENDPOINT, server.endpoint),
        `export -p > '${state}'`,
      ].join('\n');
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile('bash', ['-c', script], { cwd: work, env: cleanEnv(work), timeout: 300_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });
      assert.equal(r.code, 0, `README.md:${block.line} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      // A comment `# shows: TEXT` promises TEXT in the output.
      for (const [, promised] of block.text.matchAll(/# shows: (.+)$/gm)) {
        assert.ok(r.stdout.includes(promised.trim()), `README.md:${block.line} promises "${promised.trim()}", got: ${r.stdout}`);
      }
    });
  }
});
