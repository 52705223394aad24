// Runs one step of a component's phase as AWSTOE does: its `if` first (false skips it), then up to
// maxAttempts attempts, each running every loop iteration within the step's timeoutSeconds. An
// ExecuteBash or ExecuteBinary that exits 194 reboots the guest and runs the same iteration again
// (at most MAX_REBOOTS times in a step). The outputs of the successful iterations are joined with
// newlines into the step's `stdout`.
import type { GuestSession } from '../../../ports/guest-session.ts';
import { ACTIONS } from './actions/index.ts';
import { shq } from './actions/shell.ts';
import { REBOOT_TIMEOUT_MS } from './actions/system.ts';
import type { ActionResult } from './actions/types.ts';
import { evaluateCondition } from './conditions.ts';
import type { StepDefinition } from './document.ts';
import { iterationValues } from './loops.ts';
import { resolveDeep, type Scope, type StepMemory } from './variables.ts';
import type { StepLog } from './step-log.ts';

/** How many exit-194 reboots one step may ask for before it fails (AWSTOE's SSM retry limit plays this role). */
export const MAX_REBOOTS = 8;
/** The session timeout standing for "no timeout" (timeoutSeconds: -1): 20 days. */
const NO_TIMEOUT_MS = 20 * 24 * 3600_000;

export interface StepContext {
  session: GuestSession;
  scope: Scope;
  cwd?: string;
  signal?: AbortSignal;
  log: StepLog;
}

export interface StepResult {
  status: 'COMPLETED' | 'FAILED' | 'SKIPPED';
  attempts: number;
  failure?: string;
  memory: StepMemory;
}

interface AttemptResult { ok: boolean; failure?: string; stdout: string[]; inputs: unknown }

async function attempt(step: StepDefinition, ctx: StepContext): Promise<AttemptResult> {
  const module = ACTIONS[step.action];
  const deadline = step.timeoutSeconds === -1 ? Date.now() + NO_TIMEOUT_MS : Date.now() + step.timeoutSeconds * 1000;
  const values = step.loop ? iterationValues(step.loop, ctx.scope) : [undefined];
  const stdout: string[] = [];
  let inputs: unknown;
  let reboots = 0;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    const scope: Scope = value === undefined ? ctx.scope : { ...ctx.scope, loop: { name: step.loop?.name, index, value } };
    inputs = resolveDeep(step.inputs, scope);
    if (step.loop) ctx.log.line(`iteration ${index} (value ${JSON.stringify(value)})`);
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { ok: false, failure: `timed out after ${step.timeoutSeconds} s${step.loop ? ` at iteration ${index}` : ''}`, stdout, inputs };
    let result: ActionResult;
    try {
      result = await module.run(inputs, { session: ctx.session, timeoutMs: remaining, cwd: ctx.cwd, signal: ctx.signal, log: (l) => ctx.log.line(l) });
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      result = { ok: false, failure: (err as Error).message };
    }
    if (result.rebootRequested) {
      if (++reboots > MAX_REBOOTS) return { ok: false, failure: `asked for a reboot (exit 194) more than ${MAX_REBOOTS} times`, stdout, inputs };
      ctx.log.line('exit 194: rebooting the guest, then running the step again');
      try {
        await ctx.session.reboot({ timeoutMs: REBOOT_TIMEOUT_MS, signal: ctx.signal });
      } catch (err) {
        if (ctx.signal?.aborted) throw err;
        return { ok: false, failure: `the guest did not come back after the reboot: ${(err as Error).message}`, stdout, inputs };
      }
      index--;
      continue;
    }
    if (!result.ok) {
      if (result.timedOut) result.failure = `timed out after ${step.timeoutSeconds} s`;
      const where = step.loop ? `iteration ${index}: ` : '';
      return { ok: false, failure: `${where}${result.failure ?? 'failed'}`, stdout, inputs };
    }
    if (result.outputs) stdout.push(result.outputs.stdout);
  }
  return { ok: true, stdout, inputs };
}

/** Whether the step's `if` holds (a step without one always runs). */
async function shouldRun(step: StepDefinition, ctx: StepContext): Promise<boolean> {
  if (step.if === undefined) return true;
  const probe = async (test: '-f' | '-d', path: string) =>
    (await ctx.session.run(`test ${test} ${shq(path)}`, { timeoutMs: 60_000, cwd: ctx.cwd, signal: ctx.signal })).exitCode === 0;
  const { result, explain } = await evaluateCondition(resolveDeep(step.if, ctx.scope), probe);
  ctx.log.line(`if ${explain}: ${result}${result ? '' : ', so the step is skipped'}`);
  return result;
}

export async function runStep(step: StepDefinition, ctx: StepContext): Promise<StepResult> {
  try {
    if (!(await shouldRun(step, ctx))) return { status: 'SKIPPED', attempts: 0, memory: { inputs: step.inputs } };
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    return { status: 'FAILED', attempts: 0, failure: `if: ${(err as Error).message}`, memory: { inputs: step.inputs } };
  }
  let last: AttemptResult | undefined;
  let n = 0;
  while (n < step.maxAttempts) {
    n++;
    ctx.log.line(`attempt ${n} of ${step.maxAttempts}: ${step.action}`);
    try {
      last = await attempt(step, ctx);
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      last = { ok: false, failure: (err as Error).message, stdout: [], inputs: step.inputs };
    }
    if (last.ok) break;
    ctx.log.line(`attempt ${n} failed: ${last.failure}`);
  }
  const hasOutput = step.action === 'ExecuteBash' || step.action === 'ExecuteBinary';
  const memory: StepMemory = { inputs: last!.inputs, outputs: hasOutput ? { stdout: last!.stdout.join('\n') } : undefined };
  if (last!.ok) {
    ctx.log.line('completed');
    return { status: 'COMPLETED', attempts: n, memory };
  }
  return { status: 'FAILED', attempts: n, failure: `failed after ${n} attempt${n > 1 ? 's' : ''}: ${last!.failure}`, memory };
}
