/** Loads data for a component, with loading and error states, reloadable; a stale answer never overwrites a newer one. */
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Replaces the data (after a save that returned the new state). */
  set: (data: T) => void;
}

export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    setError(null);
    load().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setLoading(false);
      },
      (err: unknown) => {
        if (mine !== generation.current) return;
        // What is on screen belonged to the previous parameters: show the error, not stale data beside it.
        setData(undefined);
        setError(err);
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const set = useCallback((value: T) => setData(value), []);
  return { data, error, loading, reload, set };
}

/**
 * While `pending` (the server is still reading something from Stripe in the background), asks again: `reload` every
 * `ms` milliseconds after each new `data`, at most `max` times while the component is mounted.
 */
export function usePollWhile(pending: boolean, reload: () => void, data: unknown, ms = 5_000, max = 24): void {
  const polls = useRef(0);
  useEffect(() => {
    if (!pending || polls.current >= max) return;
    const timer = window.setTimeout(() => {
      polls.current += 1;
      reload();
    }, ms);
    return () => window.clearTimeout(timer);
  }, [data, pending, reload, ms, max]);
}

/** A value that follows `value` after `ms` without change (search boxes). */
export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}
