// Component documents as AWSTOE defines them (YAML, schemaVersion 1.0): a name and description,
// parameters (type string, an optional default) and constants, and phases — build, validate, test —
// of steps. A step names an action module, its inputs, onFailure (Abort | Continue | Ignore),
// timeoutSeconds (default 7200, -1 for none), maxAttempts (default 1), an optional loop and an
// optional `if` condition. Inputs may hold `{{ }}` expressions (see variables.ts).
//
// validateComponentDocument is what CreateComponent runs: every problem answers Image Builder's
// InvalidParameterValueException, saying where (phase, step) and what.
import { parse as parseYaml } from 'yaml';
import { Errors } from '../../errors.ts';
import type { ComponentParameterDetail } from '../../../protocol/imagebuilder/types.generated.ts';
import { ACTIONS, refusal } from './actions/index.ts';
import { checkCondition } from './conditions.ts';
import { parseLoop, type Loop } from './loops.ts';
import { CHAIN, expressionsIn, NAME } from './variables.ts';

export const PHASES = ['build', 'validate', 'test'] as const;
export type PhaseName = (typeof PHASES)[number];
export type OnFailure = 'Abort' | 'Continue' | 'Ignore';

/** AWSTOE's default step timeout: 7,200 seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 7200;

export interface ParameterDefinition { name: string; type: 'string'; default?: string; description?: string }

export interface StepDefinition {
  name: string;
  action: string;
  inputs: unknown;
  onFailure: OnFailure;
  /** -1: no timeout. */
  timeoutSeconds: number;
  maxAttempts: number;
  loop?: Loop;
  /** A condition (conditions.ts): the step runs only when it holds, and is skipped otherwise. */
  if?: unknown;
}

export interface PhaseDefinition { name: PhaseName; steps: StepDefinition[] }

export interface ComponentDocument {
  name?: string;
  description?: string;
  parameters: ParameterDefinition[];
  constants: ReadonlyMap<string, string>;
  phases: PhaseDefinition[];
}

type Fail = (what: string) => never;

const invalid = (what: string) =>
  Errors.ibInvalidParameterValue(`The value supplied for parameter 'data' is not a valid component document: ${what}`);

const failAt = (where: string): Fail => (what) => { throw invalid(`${where}: ${what}`); };

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const scalarText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

const VARIABLE_NAME = /^[A-Za-z0-9_-]{3,128}$/;

/** `- Name: { type: string, ... }` lists (parameters and constants). */
function namedEntries(list: unknown, section: string, fail: Fail): [string, Record<string, unknown>][] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return fail(`${section} must be a list`);
  return list.map((item, i) => {
    if (!isMap(item) || Object.keys(item).length !== 1) fail(`${section}[${i}] must be a mapping of one name to its definition`);
    const [name, def] = Object.entries(item as Record<string, unknown>)[0];
    if (!VARIABLE_NAME.test(name)) fail(`${section}[${i}]: the name '${name}' must be 3 to 128 letters, digits, - or _`);
    if (!isMap(def)) fail(`${section} '${name}' must be a mapping`);
    if (def.type !== 'string') fail(`${section} '${name}' must have type string`);
    return [name, def as Record<string, unknown>];
  });
}

function parseParameters(list: unknown, fail: Fail): ParameterDefinition[] {
  return namedEntries(list, 'parameters', fail).map(([name, def]) => {
    for (const k of Object.keys(def)) if (!['type', 'default', 'description'].includes(k)) fail(`parameter '${name}' has an unknown key '${k}'`);
    const dflt = def.default === undefined || def.default === null ? undefined : scalarText(def.default) ?? fail(`parameter '${name}': default must be a string`);
    const description = def.description === undefined ? undefined : scalarText(def.description) ?? fail(`parameter '${name}': description must be a string`);
    return { name, type: 'string', default: dflt, description };
  });
}

function parseConstants(list: unknown, fail: Fail): Map<string, string> {
  const constants = new Map<string, string>();
  for (const [name, def] of namedEntries(list, 'constants', fail)) {
    for (const k of Object.keys(def)) if (!['type', 'value'].includes(k)) fail(`constant '${name}' has an unknown key '${k}'`);
    const value = scalarText(def.value);
    if (value === undefined) fail(`constant '${name}' needs a string value`);
    constants.set(name, value!);
  }
  return constants;
}

const STEP_KEYS = ['name', 'action', 'inputs', 'onFailure', 'timeoutSeconds', 'maxAttempts', 'loop', 'if'];

function parseStep(raw: unknown, phase: PhaseName, index: number): StepDefinition {
  const fail0 = failAt(`phase '${phase}', step ${index + 1}`);
  if (!isMap(raw)) return fail0('a step must be a mapping');
  if (typeof raw.name !== 'string' || !NAME.test(raw.name) || raw.name.length > 128) {
    return fail0(`the step name must be 1 to 128 letters, digits, - or _ (found ${JSON.stringify(raw.name ?? null)})`);
  }
  const fail = failAt(`phase '${phase}', step '${raw.name}'`);
  for (const k of Object.keys(raw)) if (!STEP_KEYS.includes(k)) fail(`unknown key '${k}'`);
  if (typeof raw.action !== 'string' || !raw.action) fail('the step needs an action');
  const action = raw.action as string;
  const refused = refusal(action);
  if (refused) fail(refused);
  const onFailure = raw.onFailure ?? 'Abort';
  if (onFailure !== 'Abort' && onFailure !== 'Continue' && onFailure !== 'Ignore') fail(`onFailure must be Abort, Continue or Ignore (found ${JSON.stringify(onFailure)})`);
  const timeoutSeconds = raw.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeoutSeconds) || ((timeoutSeconds as number) < 1 && timeoutSeconds !== -1)) fail(`timeoutSeconds must be a positive whole number or -1 (found ${JSON.stringify(timeoutSeconds)})`);
  const maxAttempts = raw.maxAttempts ?? 1;
  if (!Number.isInteger(maxAttempts) || (maxAttempts as number) < 1) fail(`maxAttempts must be a whole number of at least 1 (found ${JSON.stringify(maxAttempts)})`);
  if (raw.inputs === undefined && action !== 'Reboot') fail('the step needs inputs');
  ACTIONS[action].check(raw.inputs, (what) => fail(`${action}: ${what}`));
  const loop = raw.loop === undefined ? undefined : parseLoop(raw.loop, fail);
  if (raw.if !== undefined) checkCondition(raw.if, (what) => fail(`if: ${what}`));
  return {
    name: raw.name, action, inputs: raw.inputs, onFailure: onFailure as OnFailure,
    timeoutSeconds: timeoutSeconds as number, maxAttempts: maxAttempts as number, loop, if: raw.if,
  };
}

/** Checks every `{{ }}` a step writes: variables defined, chained steps earlier and reachable. */
function checkReferences(doc: ComponentDocument): void {
  const variables = new Set([...doc.parameters.map((p) => p.name), ...doc.constants.keys()]);
  const phaseIndex = (p: string) => doc.phases.findIndex((x) => x.name === p);
  doc.phases.forEach((phase, pi) => {
    const loopNames = new Set<string>();
    phase.steps.forEach((step, si) => {
      const fail = failAt(`phase '${phase.name}', step '${step.name}'`);
      if (step.loop?.name) {
        if (loopNames.has(step.loop.name)) fail(`the loop name '${step.loop.name}' is already used in this phase`);
        loopNames.add(step.loop.name);
      }
      const loopList = step.loop?.kind === 'list' ? step.loop.items : step.loop?.kind === 'delimited' ? [step.loop.list] : [];
      for (const expr of expressionsIn([step.inputs, step.if, loopList])) {
        if (NAME.test(expr)) {
          if (!variables.has(expr)) fail(`{{ ${expr} }} is not a parameter or constant of this document`);
          continue;
        }
        const chain = CHAIN.exec(expr);
        if (!chain) continue;
        const [, refPhase, refStep] = chain;
        const target = phaseIndex(refPhase);
        const targetStep = target < 0 ? -1 : doc.phases[target].steps.findIndex((s) => s.name === refStep);
        if (targetStep < 0) fail(`{{ ${expr} }} refers to the step ${refPhase}.${refStep}, which is not in this document`);
        if (target > pi || (target === pi && targetStep >= si)) fail(`{{ ${expr} }} refers to the step ${refPhase}.${refStep}, which runs later`);
        // Image Builder runs the test phase on another instance, after the image is made.
        if (phase.name === 'test' && refPhase !== 'test') fail(`{{ ${expr} }}: the test phase cannot use the outputs of the ${refPhase} phase`);
      }
    });
  });
}

/** Parses and checks a component document; throws InvalidParameterValueException when it is not valid. */
export function parseComponentDocument(data: string): ComponentDocument {
  let raw: unknown;
  try {
    raw = parseYaml(data, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw invalid(`malformed YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const fail = failAt('document');
  if (!isMap(raw)) return fail('the document must be a YAML mapping');
  for (const k of Object.keys(raw)) if (!['name', 'description', 'schemaVersion', 'parameters', 'constants', 'phases'].includes(k)) fail(`unknown key '${k}'`);
  // `schemaVersion: 1.0` unquoted is the number 1 in YAML.
  if (raw.schemaVersion !== '1.0' && raw.schemaVersion !== 1) fail(`schemaVersion must be 1.0 (found ${JSON.stringify(raw.schemaVersion ?? null)})`);
  const name = raw.name === undefined ? undefined : scalarText(raw.name) ?? fail('name must be a string');
  const description = raw.description === undefined ? undefined : scalarText(raw.description) ?? fail('description must be a string');
  const parameters = parseParameters(raw.parameters, fail);
  const constants = parseConstants(raw.constants, fail);
  for (const p of parameters) {
    if (parameters.filter((q) => q.name === p.name).length > 1 || constants.has(p.name)) fail(`the name '${p.name}' is defined more than once`);
  }
  if (!Array.isArray(raw.phases) || raw.phases.length === 0) fail('phases must be a non-empty list');
  const phases: PhaseDefinition[] = (raw.phases as unknown[]).map((p, i) => {
    if (!isMap(p)) fail(`phases[${i}] must be a mapping with name and steps`);
    const ph = p as Record<string, unknown>;
    for (const k of Object.keys(ph)) if (k !== 'name' && k !== 'steps') fail(`phases[${i}] has an unknown key '${k}'`);
    if (!(PHASES as readonly unknown[]).includes(ph.name)) fail(`phase name ${JSON.stringify(ph.name ?? null)} is not one of ${PHASES.join(', ')}`);
    const phaseName = ph.name as PhaseName;
    if (!Array.isArray(ph.steps) || ph.steps.length === 0) failAt(`phase '${phaseName}'`)('steps must be a non-empty list');
    const steps = (ph.steps as unknown[]).map((s, si) => parseStep(s, phaseName, si));
    const seen = new Set<string>();
    for (const s of steps) {
      if (seen.has(s.name)) failAt(`phase '${phaseName}'`)(`the step name '${s.name}' is used more than once`);
      seen.add(s.name);
    }
    return { name: phaseName, steps };
  });
  for (const p of phases) if (phases.filter((q) => q.name === p.name).length > 1) fail(`the phase '${p.name}' is defined more than once`);
  const doc: ComponentDocument = { name, description, parameters, constants, phases };
  checkReferences(doc);
  return doc;
}

/** What CreateComponent runs on `data`: throws Image Builder's InvalidParameterValueException when it is not valid. */
export function validateComponentDocument(data: string): void {
  parseComponentDocument(data);
}

/** The document's parameters as Image Builder's Component lists them. */
export function componentParameters(doc: ComponentDocument): ComponentParameterDetail[] {
  return doc.parameters.map((p) => ({
    name: p.name, type: p.type,
    ...(p.default !== undefined ? { defaultValue: [p.default] } : {}),
    ...(p.description !== undefined ? { description: p.description } : {}),
  }));
}
