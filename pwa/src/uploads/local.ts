// What recordings and evidence share on this device before they upload:
// IndexedDB's callbacks as promises, the random IDs the contract asks for,
// and one running service per user in the page that keeps its uploads
// moving (started on first use, nudged when signal returns and every tick).

export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

/** A random ID for an upload: 22 characters of [A-Za-z0-9_-] (the contract allows 16–64). */
export function newUploadId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** A service that uploads what waits on this device. */
export interface UploadService {
  /** Loads what this device holds and resumes what was under way. */
  start(): Promise<void>;
  /** Moves uploads and status checks on; called every `TICK_MS`. */
  tick(): Promise<void>;
  /** Signal is back: retry now, not after the backoff. */
  onOnline(): void;
}

const TICK_MS = 2000;

/** `open(userId)`'s one service of each user in this page, started on first use. */
export function oneServicePerUser<T extends UploadService>(open: (userId: string) => Promise<T>): (userId: string) => Promise<T> {
  const services = new Map<string, Promise<T>>();
  return (userId) => {
    let service = services.get(userId);
    if (!service) {
      service = (async () => {
        const created = await open(userId);
        await created.start();
        addEventListener("online", () => created.onOnline());
        setInterval(() => void created.tick(), TICK_MS);
        void created.tick();
        return created;
      })();
      services.set(userId, service);
    }
    return service;
  };
}
