// AWSTOE's comparison and logical operators, as the Assert action and a step's `if` use them:
//   stringEquals: 'expected'          numberGreaterThan: 2        and: [ ..conditions.. ]
//   value: '{{ build.Step.outputs.stdout }}'  value: '{{ Count }}'  or: [ ... ]   not: { ... }
// A comparison reads "value <operator> baseline" (numberLessThan: 5 / value: 3 is true). String
// comparisons ignore case and do not trim; a value that is not a number makes a numeric comparison
// false. fileExists and folderExists ask the guest; every other operator is evaluated here.

const STRING_BINARY = ['stringEquals', 'stringLessThan', 'stringLessThanEquals', 'stringGreaterThan', 'stringGreaterThanEquals', 'patternMatches'] as const;
const STRING_UNARY = ['stringIsEmpty', 'stringIsWhitespace'] as const;
const NUMBER_BINARY = ['numberEquals', 'numberLessThan', 'numberLessThanEquals', 'numberGreaterThan', 'numberGreaterThanEquals'] as const;
const GUEST_UNARY = ['fileExists', 'folderExists'] as const;
const LOGICAL = ['and', 'or', 'not'] as const;
/** AWSTOE operators amiforge does not evaluate (they hash files in the guest). */
const UNSUPPORTED = ['fileMD5Equals', 'fileSHA1Equals', 'fileSHA256Equals', 'fileSHA512Equals'];

const ALL: readonly string[] = [...STRING_BINARY, ...STRING_UNARY, ...NUMBER_BINARY, ...GUEST_UNARY, ...LOGICAL];

/** Asks the guest whether a path is a file (`-f`) or a folder (`-d`). */
export type PathProbe = (test: '-f' | '-d', path: string) => Promise<boolean>;

type Fail = (what: string) => never;

const scalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** The one operator of a condition mapping (besides `value`). */
function operatorOf(c: unknown, fail: Fail): { op: string; node: Record<string, unknown> } {
  if (!c || typeof c !== 'object' || Array.isArray(c)) return fail('a condition must be a mapping with one operator');
  const node = c as Record<string, unknown>;
  const ops = Object.keys(node).filter((k) => k !== 'value');
  if (ops.length !== 1) return fail(`a condition must have exactly one operator, found ${ops.length ? ops.join(', ') : 'none'}`);
  const op = ops[0];
  if (UNSUPPORTED.includes(op)) return fail(`the operator ${op} is not supported by amiforge`);
  if (!ALL.includes(op)) return fail(`unknown operator '${op}'`);
  return { op, node };
}

/** Throws (through `fail`) when a condition is malformed. */
export function checkCondition(c: unknown, fail: Fail): void {
  const { op, node } = operatorOf(c, fail);
  const arg = node[op];
  if (op === 'and' || op === 'or') {
    if (!Array.isArray(arg) || arg.length === 0) fail(`'${op}' takes a non-empty list of conditions`);
    if ('value' in node) fail(`'${op}' takes no value`);
    for (const sub of arg as unknown[]) checkCondition(sub, fail);
    return;
  }
  if (op === 'not') {
    if ('value' in node) fail(`'not' takes no value`);
    return checkCondition(arg, fail);
  }
  if (!scalar(arg)) fail(`'${op}' takes a string or a number`);
  const unary = (STRING_UNARY as readonly string[]).includes(op) || (GUEST_UNARY as readonly string[]).includes(op);
  if (unary && 'value' in node) fail(`'${op}' takes no value`);
  if (!unary && !scalar(node.value)) fail(`'${op}' needs a value to compare`);
  if (op === 'patternMatches' && typeof arg === 'string' && !arg.includes('{{')) {
    try { new RegExp(arg); } catch { fail(`'patternMatches' has an invalid pattern: ${arg}`); }
  }
}

const num = (v: unknown): number | undefined => {
  const s = String(v).trim();
  if (s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};

export interface Evaluation { result: boolean; explain: string }

/** Evaluates a checked condition whose variables are already resolved. */
export async function evaluateCondition(c: unknown, probe?: PathProbe): Promise<Evaluation> {
  const { op, node } = operatorOf(c, (what) => { throw new Error(what); });
  const arg = node[op];
  const value = node.value;
  const show = (v: unknown) => JSON.stringify(String(v));
  switch (op) {
    case 'and': case 'or': {
      const parts: Evaluation[] = [];
      for (const sub of arg as unknown[]) {
        const e = await evaluateCondition(sub, probe);
        parts.push(e);
        // Short-circuits, as a failed `and` needs no more questions to the guest.
        if (op === 'and' ? !e.result : e.result) break;
      }
      const result = op === 'and' ? parts.every((p) => p.result) : parts.some((p) => p.result);
      return { result, explain: `${op}(${parts.map((p) => p.explain).join(', ')})` };
    }
    case 'not': {
      const e = await evaluateCondition(arg, probe);
      return { result: !e.result, explain: `not(${e.explain})` };
    }
    case 'stringIsEmpty': return { result: String(arg) === '', explain: `stringIsEmpty ${show(arg)}` };
    case 'stringIsWhitespace': return { result: /^\s+$/.test(String(arg)), explain: `stringIsWhitespace ${show(arg)}` };
    case 'fileExists': case 'folderExists': {
      if (!probe) throw new Error(`${op} needs the guest`);
      return { result: await probe(op === 'fileExists' ? '-f' : '-d', String(arg)), explain: `${op} ${show(arg)}` };
    }
    case 'patternMatches': {
      const result = new RegExp(String(arg)).test(String(value));
      return { result, explain: `${show(value)} patternMatches ${show(arg)}` };
    }
  }
  const explain = `${show(value)} ${op} ${show(arg)}`;
  if (op.startsWith('number')) {
    const a = num(value), b = num(arg);
    if (a === undefined || b === undefined) return { result: false, explain: `${explain} (not a number)` };
    const result = op === 'numberEquals' ? a === b : op === 'numberLessThan' ? a < b : op === 'numberLessThanEquals' ? a <= b
      : op === 'numberGreaterThan' ? a > b : a >= b;
    return { result, explain };
  }
  const a = String(value).toLowerCase(), b = String(arg).toLowerCase();
  const result = op === 'stringEquals' ? a === b : op === 'stringLessThan' ? a < b : op === 'stringLessThanEquals' ? a <= b
    : op === 'stringGreaterThan' ? a > b : a >= b;
  return { result, explain };
}
