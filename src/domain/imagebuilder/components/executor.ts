// Placeholder until the component executor lands: the interface the build workflow codes against.
// The real executor replaces this file whole.
import type { GuestSession } from '../../../ports/guest-session.ts';
import { Errors } from '../../errors.ts';

export interface ComponentToRun {
  arn: string;
  name: string;
  /** The component's YAML document. */
  data: string;
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
  output: string;
  log: string;
}

export interface PhaseOutcome {
  ok: boolean;
  steps: StepRecord[];
  failure?: string;
}

export type ComponentRunner = (
  phase: 'build' | 'validate' | 'test',
  components: ComponentToRun[],
  session: GuestSession,
  opts: { workingDirectory?: string; signal?: AbortSignal; onLog?: (line: string) => void },
) => Promise<PhaseOutcome>;

export const runComponents: ComponentRunner = async () => {
  throw Errors.ibInternal();
};
