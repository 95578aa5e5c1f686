import { useEffect, useState } from 'preact/hooks';

/** The state of a request the screen waits for: loading, failed (with a message) or done. */
export type Load<T> = { state: 'loading' } | { state: 'error'; message: string; status?: number } | { state: 'done'; value: T };

/** Runs `fetcher` whenever `key` changes; `reload()` runs it again. */
export function useLoad<T>(key: string, fetcher: () => Promise<T>): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setLoad({ state: 'loading' });
    fetcher().then(
      (value) => live && setLoad({ state: 'done', value }),
      (err: unknown) => live && setLoad({ state: 'error', message: err instanceof Error ? err.message : String(err), status: (err as { status?: number }).status }),
    );
    return () => {
      live = false;
    };
  }, [key, round]);
  return [load, () => setRound((r) => r + 1)];
}

/** An API failure as an Error with its status. */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
