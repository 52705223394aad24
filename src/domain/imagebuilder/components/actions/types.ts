// What an action module is to the document checker and the executor: it checks its inputs when a
// component is created (values may still hold `{{ }}` expressions then), and runs with the inputs
// resolved, through the guest session.
import type { GuestSession } from '../../../../ports/guest-session.ts';

export interface ActionContext {
  session: GuestSession;
  /** The time left for this run of the step (the step's timeoutSeconds, minus earlier iterations). */
  timeoutMs: number;
  cwd?: string;
  signal?: AbortSignal;
  /** A line for the step's log and the caller's onLog. */
  log(line: string): void;
}

export interface ActionResult {
  ok: boolean;
  /** Why it failed, in a line: `exit status 3`, `assertion failed: ...`. */
  failure?: string;
  /** The action's outputs (ExecuteBash and ExecuteBinary: stdout), for chaining. */
  outputs?: { stdout: string };
  /** The command asked for a reboot (exit 194): reboot, then run the same step again. */
  rebootRequested?: boolean;
  timedOut?: boolean;
}

export interface ActionModule {
  /** Throws (through `fail`) when the inputs cannot be right whatever the variables hold. */
  check(inputs: unknown, fail: (what: string) => never): void;
  /** Runs the step once with resolved inputs. */
  run(inputs: unknown, ctx: ActionContext): Promise<ActionResult>;
}

/** Inputs given as one mapping or a list of them (AWSTOE's file actions take a list). */
export function entries(inputs: unknown, fail: (what: string) => never): Record<string, unknown>[] {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  if (list.length === 0) fail('inputs must not be empty');
  return list.map((e, i) => {
    if (!e || typeof e !== 'object' || Array.isArray(e)) fail(`inputs[${i}] must be a mapping`);
    return e as Record<string, unknown>;
  });
}

/** A string input (numbers are accepted and read as their text, as YAML may type `755`). */
export function str(entry: Record<string, unknown>, key: string, fail: (what: string) => never, required: boolean): string | undefined {
  const v = entry[key];
  if (v === undefined || v === null) {
    if (required) fail(`input '${key}' is required`);
    return undefined;
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return fail(`input '${key}' must be a string`);
}

/** A boolean input (`true`, `'false'`, or an unresolved `{{ }}` expression at check time). */
export function bool(entry: Record<string, unknown>, key: string, fail: (what: string) => never, dflt: boolean): boolean {
  const v = entry[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  if (typeof v === 'string' && v.includes('{{')) return dflt;
  return fail(`input '${key}' must be true or false`);
}

/** Rejects keys the action does not know. */
export function onlyKeys(entry: Record<string, unknown>, keys: readonly string[], fail: (what: string) => never): void {
  for (const k of Object.keys(entry)) if (!keys.includes(k)) fail(`unknown input '${k}' (expected ${keys.join(', ')})`);
}

export const templated = (s: string): boolean => s.includes('{{');
