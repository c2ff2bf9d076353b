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
