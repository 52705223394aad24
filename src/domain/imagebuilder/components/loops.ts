// A step's loop (AWSTOE's looping constructs): `for` over integers from start to end inclusive by
// updateBy, `forEach` over a list of strings, or `forEach` over a delimited string. The step's
// inputs run once per iteration with {{ loop.index }} (from 0) and {{ loop.value }}.
import { resolveString, type Scope } from './variables.ts';

export type Loop =
  | { name?: string; kind: 'for'; start: number; end: number; updateBy: number }
  | { name?: string; kind: 'list'; items: string[] }
  | { name?: string; kind: 'delimited'; list: string; delimiter: string };

/** The delimiters AWSTOE accepts for a delimited forEach list. */
export const DELIMITERS = ['.', ',', ';', ':', '\n', '\t', ' ', '-', '_'];
/** A bound on iterations, so a mistaken loop cannot run for ever. */
export const MAX_ITERATIONS = 10_000;

type Fail = (what: string) => never;
const int = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Reads a step's `loop` mapping; throws (through `fail`) when it is malformed or would not end. */
export function parseLoop(raw: unknown, fail: Fail): Loop {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail('loop must be a mapping');
  const node = raw as Record<string, unknown>;
  for (const k of Object.keys(node)) if (!['name', 'for', 'forEach'].includes(k)) fail(`loop has an unknown key '${k}'`);
  const name = node.name === undefined ? undefined : typeof node.name === 'string' && /^[A-Za-z0-9_-]+$/.test(node.name) ? node.name : fail('loop name must be letters, digits, - or _');
  if (name === 'loop') fail(`a loop cannot be named 'loop'`);
  if ((node.for === undefined) === (node.forEach === undefined)) fail('loop needs exactly one of for and forEach');
  if (node.for !== undefined) {
    const f = node.for as Record<string, unknown>;
    if (!f || typeof f !== 'object' || Array.isArray(f)) fail('loop.for must be a mapping with start, end and updateBy');
    const { start, end, updateBy } = f;
    if (!int(start) || !int(end) || !int(updateBy)) fail('loop.for needs whole numbers start, end and updateBy');
    if (updateBy === 0) fail('loop.for updateBy must not be 0');
    if ((end - start) * updateBy < 0) fail(`loop.for from ${start} to ${end} by ${updateBy} would never end`);
    if (Math.floor((end - start) / updateBy) + 1 > MAX_ITERATIONS) fail(`loop.for runs more than ${MAX_ITERATIONS} iterations`);
    return { name, kind: 'for', start, end, updateBy };
  }
  const each = node.forEach;
  if (Array.isArray(each)) {
    if (each.length === 0) fail('loop.forEach must not be empty');
    return { name, kind: 'list', items: each.map((v, i) => (typeof v === 'string' || typeof v === 'number' ? String(v) : fail(`loop.forEach[${i}] must be a string`))) };
  }
  if (each && typeof each === 'object') {
    const { list, delimiter = ',' } = each as Record<string, unknown>;
    if (typeof list !== 'string') fail('loop.forEach.list must be a string');
    if (typeof delimiter !== 'string' || !DELIMITERS.includes(delimiter)) fail(`loop.forEach.delimiter must be one of ${JSON.stringify(DELIMITERS.join(''))}`);
    return { name, kind: 'delimited', list: list as string, delimiter: delimiter as string };
  }
  return fail('loop.forEach must be a list of strings or a mapping with list and delimiter');
}

/** The iteration values, with chained expressions in a list resolved now. */
export function iterationValues(loop: Loop, scope: Scope): string[] {
  if (loop.kind === 'for') {
    const values: string[] = [];
    for (let v = loop.start; loop.updateBy > 0 ? v <= loop.end : v >= loop.end; v += loop.updateBy) values.push(String(v));
    return values;
  }
  if (loop.kind === 'list') return loop.items.map((i) => resolveString(i, scope));
  return resolveString(loop.list, scope).split(loop.delimiter).slice(0, MAX_ITERATIONS);
}
