// `{{ }}` expressions in step inputs, resolved just before a step runs:
//   {{ Name }}                                  a parameter or a constant
//   {{ build.Step.outputs.stdout }}             an earlier step's output (chaining)
//   {{ build.Step.inputs[0].path }}             an earlier step's resolved input
//   {{ loop.value }} {{ loop.index }} {{ myLoop.value }}   the current iteration of the step's loop
// Anything else is left as written, as AWSTOE leaves loop expressions outside a loop.

export const EXPRESSION = /\{\{\s*([^{}]*?)\s*\}\}/g;
export const CHAIN = /^(build|validate|test)\.([^.[\]\s]+)\.(inputs|outputs)(?:\[(\d+)\])?\.([A-Za-z0-9_-]+)$/;
export const NAME = /^[A-Za-z0-9_-]+$/;

export interface StepMemory {
  /** The inputs the step last ran with, resolved. */
  inputs: unknown;
  outputs?: Record<string, string>;
}

export interface Scope {
  /** Parameters (the recipe's values over the defaults) and constants. */
  variables: ReadonlyMap<string, string>;
  /** Steps that have run in this call, by `phase.step`. */
  steps: ReadonlyMap<string, StepMemory>;
  loop?: { name?: string; index: number; value: string };
}

/** A reference that cannot be resolved when the step runs (a step that has not run yet). */
export class UnresolvedReference extends Error {}

const text = (v: unknown): string => (Array.isArray(v) ? v.map(text).join('\n') : v === undefined || v === null ? '' : String(v));

function lookup(expr: string, scope: Scope): string | undefined {
  const loop = /^([A-Za-z0-9_-]+)\.(index|value)$/.exec(expr);
  if (loop && scope.loop && (loop[1] === 'loop' || loop[1] === scope.loop.name)) {
    return loop[2] === 'index' ? String(scope.loop.index) : scope.loop.value;
  }
  if (NAME.test(expr)) return scope.variables.get(expr);
  const chain = CHAIN.exec(expr);
  if (!chain) return undefined;
  const [, phase, step, kind, index, field] = chain;
  const memory = scope.steps.get(`${phase}.${step}`);
  if (!memory) throw new UnresolvedReference(`{{ ${expr} }} refers to the step ${phase}.${step}, which has not run in this phase`);
  if (kind === 'outputs') return memory.outputs?.[field] ?? '';
  let inputs = memory.inputs;
  if (Array.isArray(inputs)) inputs = inputs[Number(index ?? 0)];
  return text((inputs as Record<string, unknown> | undefined)?.[field]);
}

export function resolveString(s: string, scope: Scope): string {
  return s.replace(EXPRESSION, (whole, expr: string) => lookup(expr, scope) ?? whole);
}

/** `value` with every string in it resolved (mappings and lists walked). */
export function resolveDeep(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') return resolveString(value, scope);
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, scope));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v, scope)]));
  }
  return value;
}

/** Every expression written in `value`'s strings, for the document check. */
export function expressionsIn(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') for (const m of value.matchAll(EXPRESSION)) into.push(m[1]);
  else if (Array.isArray(value)) for (const v of value) expressionsIn(v, into);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) expressionsIn(v, into);
  return into;
}
