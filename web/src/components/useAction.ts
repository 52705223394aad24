// What a page's action buttons share: one action at a time, its outcome in words for the
// role=status line, and its error (ApiError's message) for the role=alert element.
import { useState } from 'preact/hooks';
import { describeError } from '../api.ts';

export interface ActionState {
  status?: string;
  error?: string;
  busy: boolean;
  /** Runs the action; its returned sentence becomes the status line. True when it succeeded. */
  run(action: () => Promise<string | void>): Promise<boolean>;
}

export function useAction(): ActionState {
  const [status, setStatus] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<string | void>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    setStatus(undefined);
    try {
      const said = await action();
      if (said) setStatus(said);
      return true;
    } catch (err) {
      setError(describeError(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { status, error, busy, run };
}
