// What a page says after an action: the outcome in words (role=status) or the error (role=alert).
// `run` wraps an action: it clears both, runs it, and shows what it returns or the error.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { describeError } from '../api.ts';

export interface ActionMessages {
  run(action: () => Promise<ComponentChildren | void>): Promise<void>;
  say(message: ComponentChildren): void;
  fail(err: unknown): void;
  busy: boolean;
  view: ComponentChildren;
}

export function useActionMessages(): ActionMessages {
  const [status, setStatus] = useState<ComponentChildren>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return {
    busy,
    say: (m) => { setError(undefined); setStatus(m); },
    fail: (err) => setError(describeError(err)),
    async run(action) {
      setBusy(true);
      setError(undefined);
      try {
        const said = await action();
        if (said !== undefined) setStatus(said);
      } catch (err) {
        setError(describeError(err));
      } finally {
        setBusy(false);
      }
    },
    view: (
      <>
        <p role="status" class="status-line">{status}</p>
        {error && <p role="alert" class="error">{error}</p>}
      </>
    ),
  };
}
