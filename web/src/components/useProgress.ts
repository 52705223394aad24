// Follows long operations (snapshots, images) to their end: the `progress` stream, or, where the
// server has no such stream, the caller's own Describe call every POLL_MS.
import { useEffect, useState } from 'preact/hooks';
import { stream } from '../api.ts';

export interface OperationState { id: string; state: string; progress?: number; message?: string }

const POLL_MS = 1000;
/** States after which nothing changes any more. */
const FINISHED = new Set(['available', 'completed', 'error', 'failed', 'gone', 'deregistered', 'disabled', 'recoverable']);

export const isFinished = (s: OperationState | undefined): boolean => !!s && FINISHED.has(s.state);

/**
 * `ids`: what to follow (a stable, comma-joined key decides when to start again); `poll` reads
 * their states when the stream is missing. Returns the latest state per id.
 */
export function useProgress(ids: string[], poll: (ids: string[]) => Promise<OperationState[]>): Record<string, OperationState> {
  const [states, setStates] = useState<Record<string, OperationState>>({});
  const key = [...ids].sort().join(',');

  useEffect(() => {
    if (!key) return undefined;
    const wanted = key.split(',');
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const update = (list: OperationState[]) => setStates((old) => {
      const next = { ...old };
      for (const s of list) next[s.id] = s;
      return next;
    });
    const pollLoop = async () => {
      if (stopped) return;
      const list = await poll(wanted).catch(() => []);
      if (stopped) return;
      update(list);
      if (list.length < wanted.length || !list.every(isFinished)) timer = setTimeout(() => void pollLoop(), POLL_MS);
    };
    const close = stream('progress', { ids: key }, (event, data) => {
      if (event === 'progress') {
        const p = data as { id: string; state: string; progress?: number; message?: string };
        update([{ id: p.id, state: p.state, progress: p.progress, message: p.message }]);
      }
    }, () => void pollLoop());
    return () => {
      stopped = true;
      close();
      if (timer) clearTimeout(timer);
    };
  }, [key]);

  return states;
}
