// How a page runs an action: one at a time, its outcome in words, a status line (role=status)
// on success and the API's error (role=alert) on failure.
import { useState } from 'preact/hooks';
import { describeError } from '../api.ts';

export interface ActionState {
  busy: boolean;
  status?: string;
  error?: string;
  /** Runs `fn`; its answer (a sentence) becomes the status line. Resolves true on success. */
  run(fn: () => Promise<string>): Promise<boolean>;
  /** Shows a status line without running anything (an outcome learnt later, like a finished copy), and refreshes. */
  say(status: string): void;
}

export function useActions(onDone?: () => void): ActionState {
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  return {
    busy,
    status,
    error,
    say: (s) => { setError(undefined); setStatus(s); onDone?.(); },
    async run(fn) {
      setBusy(true);
      setError(undefined);
      try {
        setStatus(await fn());
        onDone?.();
        return true;
      } catch (err) {
        setStatus(undefined);
        setError(describeError(err));
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}

/** The status line and error of a page's actions. */
export function ActionOutcome(props: { actions: ActionState }) {
  const { status, error } = props.actions;
  return (
    <>
      <p role="status" class="status">{status ?? ''}</p>
      {error && <p role="alert" class="error">{error}</p>}
    </>
  );
}
