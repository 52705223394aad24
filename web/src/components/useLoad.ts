// Data a page loads: the value, loading and error states, and a reload after actions. A newer
// load wins over an older one still in flight (a region switch while loading).
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api.ts';

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload(): Promise<void>;
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const reload = async () => {
    const n = ++latest.current;
    setLoading(true);
    try {
      const value = await load();
      if (n !== latest.current) return;
      setData(value);
      setError(undefined);
    } catch (err) {
      if (n === latest.current) setError(describeError(err));
    } finally {
      if (n === latest.current) setLoading(false);
    }
  };
  useEffect(() => void reload(), deps);
  return { data, error, loading, reload };
}
