// Reboot and Assert. Reboot restarts the guest through the session and waits for it to answer
// again (its step timeout does not apply, as AWSTOE documents); Assert evaluates its condition
// here, asking the guest only for fileExists/folderExists.
import { setTimeout as sleep } from 'node:timers/promises';
import { checkCondition, evaluateCondition } from '../conditions.ts';
import { shq } from './shell.ts';
import { onlyKeys, type ActionModule } from './types.ts';

/** How long a guest may take to go down and answer again after a Reboot. */
export const REBOOT_TIMEOUT_MS = 15 * 60_000;

function delayOf(inputs: unknown, fail: (what: string) => never): number {
  if (inputs === undefined || inputs === null) return 0;
  if (typeof inputs !== 'object' || Array.isArray(inputs)) return fail('inputs must be a mapping');
  const entry = inputs as Record<string, unknown>;
  onlyKeys(entry, ['delaySeconds'], fail);
  const d = entry.delaySeconds;
  if (d === undefined) return 0;
  const n = typeof d === 'string' && !d.includes('{{') ? Number(d) : d;
  if (typeof n === 'string') return 0;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return fail(`input 'delaySeconds' must be a whole number of seconds`);
  return n;
}

export const reboot: ActionModule = {
  check: (inputs, fail) => void delayOf(inputs, fail),
  async run(inputs, ctx) {
    const delay = delayOf(inputs, (what) => { throw new Error(what); });
    if (delay > 0) {
      ctx.log(`waiting ${delay} s before the reboot`);
      await sleep(delay * 1000, undefined, { signal: ctx.signal });
    }
    ctx.log('rebooting the guest');
    try {
      await ctx.session.reboot({ timeoutMs: REBOOT_TIMEOUT_MS, signal: ctx.signal });
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      return { ok: false, failure: `the guest did not come back after the reboot: ${(err as Error).message}` };
    }
    ctx.log('the guest answers again');
    return { ok: true };
  },
};

export const assert: ActionModule = {
  check: (inputs, fail) => checkCondition(inputs, fail),
  async run(inputs, ctx) {
    const probe = async (test: '-f' | '-d', path: string) =>
      (await ctx.session.run(`test ${test} ${shq(path)}`, { timeoutMs: ctx.timeoutMs, cwd: ctx.cwd, signal: ctx.signal })).exitCode === 0;
    const { result, explain } = await evaluateCondition(inputs, probe);
    ctx.log(`assert ${explain}: ${result}`);
    return result ? { ok: true } : { ok: false, failure: `assertion failed: ${explain}` };
  },
};
