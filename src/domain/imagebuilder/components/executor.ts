// Runs one phase (build, validate or test) of a recipe's components in a guest: the components in
// the order given, each one's steps in document order, as AWSTOE would on the instance. A step that
// fails with onFailure Abort stops the phase (the steps left are recorded as SKIPPED); Continue
// records the failure and goes on, failing the phase at the end; Ignore goes on and the phase
// still succeeds (the step is recorded FAILED, with the failure noted as ignored in its log).
//
// Chaining reaches the earlier steps of the same phase, and — when the same session runs build and
// then validate, as a build instance does — the build phase's steps from validate. The test phase
// runs on another instance, so it sees only its own.
import type { GuestSession } from '../../../ports/guest-session.ts';
import { parseComponentDocument, type ComponentDocument, type PhaseName, type StepDefinition } from './document.ts';
import { StepLog } from './step-log.ts';
import { runStep } from './step-runner.ts';
import type { StepMemory } from './variables.ts';

export interface ComponentToRun {
  arn: string;
  name: string;
  /** The YAML document. */
  data: string;
  /** The recipe's values; each overrides the document's default (a list is joined with commas). */
  parameters?: { name: string; value: string[] }[];
}

export interface StepRecord {
  component: string;
  phase: string;
  step: string;
  action: string;
  status: 'COMPLETED' | 'FAILED' | 'SKIPPED';
  startTime: string;
  endTime: string;
  attempts: number;
  /** The step's outputs as JSON: `{"stdout":"..."}` for ExecuteBash and ExecuteBinary, `{}` otherwise. */
  output: string;
  /** What ran and what it printed, timestamped (the failure included). */
  log: string;
}

export interface PhaseOutcome {
  ok: boolean;
  steps: StepRecord[];
  /** The first failure, in a sentence naming the component, phase and step. */
  failure?: string;
}

export type ComponentRunner = (
  phase: 'build' | 'validate' | 'test',
  components: ComponentToRun[],
  session: GuestSession,
  opts: { workingDirectory?: string; signal?: AbortSignal; onLog?: (line: string) => void },
) => Promise<PhaseOutcome>;

/** Each session's step memories by component ARN, so validate can chain from build on the same guest. */
const memories = new WeakMap<GuestSession, Map<string, Map<string, StepMemory>>>();

function memoryOf(session: GuestSession, arn: string): Map<string, StepMemory> {
  let bySession = memories.get(session);
  if (!bySession) memories.set(session, (bySession = new Map()));
  let byComponent = bySession.get(arn);
  if (!byComponent) bySession.set(arn, (byComponent = new Map()));
  return byComponent;
}

/** Parameters and constants; throws naming a required parameter the recipe did not give. */
function variablesOf(doc: ComponentDocument, given: ComponentToRun['parameters']): Map<string, string> {
  const values = new Map(doc.constants);
  for (const p of doc.parameters) {
    const supplied = given?.find((g) => g.name === p.name);
    const value = supplied ? supplied.value.join(',') : p.default;
    if (value === undefined) throw new Error(`the parameter '${p.name}' has no default and the recipe gives no value`);
    values.set(p.name, value);
  }
  return values;
}

const now = () => new Date().toISOString();

export const runComponents: ComponentRunner = async (phase, components, session, opts) => {
  const steps: StepRecord[] = [];
  let failure: string | undefined;
  let stopped = false;
  const skip = (component: string, step: StepDefinition, why: string) => {
    const at = now();
    steps.push({ component, phase, step: step.name, action: step.action, status: 'SKIPPED', startTime: at, endTime: at, attempts: 0, output: '{}', log: `${at} ${why}\n` });
  };

  for (const c of components) {
    let doc: ComponentDocument;
    try {
      doc = parseComponentDocument(c.data);
    } catch (err) {
      failure ??= `Component ${c.name}: ${(err as Error).message}`;
      stopped = true;
      continue;
    }
    const stepsHere = doc.phases.find((p) => p.name === (phase as PhaseName))?.steps ?? [];
    if (stepsHere.length === 0) continue;
    if (stopped) {
      for (const s of stepsHere) skip(c.name, s, 'skipped: an earlier step failed with onFailure Abort');
      continue;
    }
    let variables: Map<string, string>;
    try {
      variables = variablesOf(doc, c.parameters);
    } catch (err) {
      failure ??= `Component ${c.name}, phase ${phase}: ${(err as Error).message}`;
      stopped = true;
      for (const s of stepsHere) skip(c.name, s, `skipped: ${(err as Error).message}`);
      continue;
    }
    const memory = memoryOf(session, c.arn);
    for (const step of stepsHere) {
      if (stopped) {
        skip(c.name, step, opts.signal?.aborted ? 'skipped: the run was cancelled' : 'skipped: an earlier step failed with onFailure Abort');
        continue;
      }
      const startTime = now();
      const log = new StepLog(`${c.name}/${phase}/${step.name}`, opts.onLog);
      let result;
      try {
        result = await runStep(step, { session, scope: { variables, steps: memory }, cwd: opts.workingDirectory, signal: opts.signal, log });
      } catch (err) {
        // Only a cancellation escapes runStep.
        log.line(`cancelled: ${(err as Error).message}`);
        result = { status: 'FAILED' as const, attempts: 1, failure: 'cancelled', memory: { inputs: step.inputs } };
      }
      memory.set(`${phase}.${step.name}`, result.memory);
      if (result.status === 'FAILED') {
        log.line(`${result.failure} (onFailure: ${step.onFailure}${step.onFailure === 'Ignore' ? ', so the failure is ignored' : ''})`);
        const sentence = `Component ${c.name}, phase ${phase}, step ${step.name} (${step.action}) ${result.failure}`;
        if (opts.signal?.aborted) {
          failure ??= `Component ${c.name}, phase ${phase}, step ${step.name}: the run was cancelled`;
          stopped = true;
        } else if (step.onFailure === 'Abort') {
          failure ??= sentence;
          stopped = true;
        } else if (step.onFailure === 'Continue') {
          failure ??= sentence;
        }
      }
      steps.push({
        component: c.name, phase, step: step.name, action: step.action, status: result.status, startTime, endTime: now(),
        attempts: result.attempts, output: JSON.stringify(result.memory.outputs ?? {}), log: log.toString(),
      });
    }
  }
  return failure === undefined ? { ok: true, steps } : { ok: false, steps, failure };
};
