// Runs the real CLI (bin/amiforge, a child process) on the data directory of a running server,
// as the storage report and clean-up tests do.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(new URL('../../', import.meta.url).pathname, 'bin/amiforge');

export interface Run { code: number; stdout: string; stderr: string }

/** `dataDir` is read at each run: the server it names starts in a `before` hook. */
export function amiforgeCli(dataDir: () => string): {
  amiforge: (...args: string[]) => Promise<Run>;
  json: (...args: string[]) => Promise<any>;
} {
  const amiforge = (...args: string[]): Promise<Run> => new Promise((resolve) => {
    execFile(CLI, [...args, '--data-dir', dataDir()], { maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
  const json = async (...args: string[]): Promise<any> => {
    const r = await amiforge(...args, '--json');
    assert.equal(r.code, 0, `amiforge ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  return { amiforge, json };
}
