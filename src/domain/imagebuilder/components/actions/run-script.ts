// Runs one action's bash script through the guest session and turns what came back into the
// action's result: the exit status, the output for chaining, and exit 194 read as AWSTOE reads it
// (reboot, then run the same step again).
import type { ActionContext, ActionResult } from './types.ts';

/** AWSTOE's exit code for "reboot me and run this step again" on Linux. */
export const REBOOT_EXIT_CODE = 194;
/** What a step keeps of a command's output for chaining; more is cut (with a note in the log). */
const MAX_OUTPUT = 1024 * 1024;
/** What the step log keeps of each stream; the tail is kept, where errors usually are. */
const MAX_LOGGED = 16 * 1024;

export function tail(text: string, max = MAX_LOGGED): string {
  return text.length <= max ? text : `[... ${text.length - max} earlier characters cut ...]\n${text.slice(-max)}`;
}

export async function runScript(ctx: ActionContext, script: string, opts: { rebootOn194?: boolean } = {}): Promise<ActionResult> {
  const r = await ctx.session.run(script, { timeoutMs: ctx.timeoutMs, cwd: ctx.cwd, signal: ctx.signal });
  if (r.stdout) ctx.log(`stdout:\n${tail(r.stdout).replace(/\n$/, '')}`);
  if (r.stderr) ctx.log(`stderr:\n${tail(r.stderr).replace(/\n$/, '')}`);
  const stdout = (r.stdout.length > MAX_OUTPUT ? r.stdout.slice(0, MAX_OUTPUT) : r.stdout).replace(/\n$/, '');
  if (r.timedOut) return { ok: false, timedOut: true, failure: `timed out after ${Math.round(ctx.timeoutMs / 1000)} s`, outputs: { stdout } };
  if (opts.rebootOn194 && r.exitCode === REBOOT_EXIT_CODE) return { ok: true, rebootRequested: true, outputs: { stdout } };
  if (r.exitCode !== 0) {
    const lastError = r.stderr.trim().split('\n').pop();
    return { ok: false, failure: `exit status ${r.exitCode}${lastError ? `: ${lastError}` : ''}`, outputs: { stdout } };
  }
  return { ok: true, outputs: { stdout } };
}
