import { useEffect, useState } from "preact/hooks";

/** Re-renders when `subscribe`'s listener fires; returns `read()`'s value. */
export function useSubscription<T>(subscribe: ((listener: () => void) => () => void) | null, read: () => T): T {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!subscribe) return;
    return subscribe(() => setTick((tick) => tick + 1));
  }, [subscribe]);
  return read();
}

/** The part of the URL after `#`, kept in state. */
export function useHashRoute(): string {
  const [hash, setHash] = useState(location.hash.slice(1) || "/");
  useEffect(() => {
    const onChange = () => setHash(location.hash.slice(1) || "/");
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

/** The current time, refreshed every `everyMs`, for "5 min ago" labels. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** The service `start(userId)` resolves to once it has started (null before,
 * or if it could not start), re-rendering on every change it announces. */
export function useStartedService<T extends { subscribe(listener: () => void): () => void }>(userId: string | null, start: (userId: string) => Promise<T>): T | null {
  const [service, setService] = useState<T | null>(null);
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!userId) return;
    let unsubscribe: (() => void) | null = null;
    let cancelled = false;
    start(userId)
      .then((started) => {
        if (cancelled) return;
        setService(started);
        unsubscribe = started.subscribe(() => setTick((tick) => tick + 1));
      })
      .catch(() => setService(null));
    return () => {
      cancelled = true;
      unsubscribe?.();
    };
  }, [userId, start]);
  return service;
}
