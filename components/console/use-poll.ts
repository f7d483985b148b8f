'use client';
import { useEffect, useRef, useState } from 'react';
import { ApiError, describeError } from '../../lib/api-client.ts';

/** Sends the browser to sign-in when the session has expired; true if it did. */
export function redirectIfSignedOut(err: unknown): boolean {
  if (err instanceof ApiError && err.status === 401) {
    const next = window.location.pathname + window.location.search;
    window.location.assign(`/console/sign-in?next=${encodeURIComponent(next)}`);
    return true;
  }
  return false;
}

/** Rejects when `promise` has not settled after `ms`, so a hung request never stops polling. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new ApiError(0, 'network_error', `no answer from the server within ${Math.round(ms / 1000)} s`),
        ),
      ms,
    );
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export interface Poll<T> {
  data: T | undefined;
  /** The last poll's error as a sentence; cleared by the next success. */
  error: string | undefined;
  /** The raw error of the last poll. */
  errorValue: unknown;
  loading: boolean;
  /** Polls now (after an action), instead of waiting for the next tick. */
  refresh: () => void;
}

/**
 * Calls `load` now and then every `intervalMs` after each call settles (never
 * overlapping). `key` restarts polling when it changes.
 */
export function usePoll<T>(
  load: () => Promise<T>,
  intervalMs: number,
  key = '',
  timeoutMs = 10_000,
): Poll<T> {
  const [data, setData] = useState<T>();
  const [errorValue, setErrorValue] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  const kick = useRef<() => void>(() => undefined);
  useEffect(() => {
    loadRef.current = load;
  });

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    let again = false;
    const run = async () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      clearTimeout(timer);
      try {
        const value = await withTimeout(loadRef.current(), timeoutMs);
        if (!alive) return;
        setData(value);
        setErrorValue(undefined);
      } catch (err) {
        if (!alive) return;
        if (redirectIfSignedOut(err)) return;
        setErrorValue(err ?? new Error('unknown error'));
      } finally {
        inFlight = false;
        if (alive) {
          setLoading(false);
          if (again) {
            again = false;
            void run();
          } else {
            timer = setTimeout(() => void run(), intervalMs);
          }
        }
      }
    };
    kick.current = () => void run();
    void run();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [intervalMs, key, timeoutMs]);

  return {
    data,
    errorValue,
    error: errorValue === undefined ? undefined : describeError(errorValue),
    loading,
    refresh: () => kick.current(),
  };
}
