// Deleting a draft is two steps: it leaves the list at once (on every
// device, through the root document), and after the undo window the server
// deletes its data for good. The second step is queued in localStorage so it
// survives a reload and waits for signal.

export const UNDO_WINDOW_MS = 10_000;

interface Pending {
  id: string;
  notBefore: number;
}

export class DeletionQueue {
  readonly #key: string;
  readonly #storage: Storage;

  constructor(key: string, storage: Storage) {
    this.#key = key;
    this.#storage = storage;
  }

  schedule(id: string, now: number): void {
    this.#write([...this.#read().filter((item) => item.id !== id), { id, notBefore: now + UNDO_WINDOW_MS }]);
  }

  cancel(id: string): void {
    this.#write(this.#read().filter((item) => item.id !== id));
  }

  /** Ids whose undo window has passed. */
  due(now: number): string[] {
    return this.#read()
      .filter((item) => item.notBefore <= now)
      .map((item) => item.id);
  }

  /** Deletes what is due with `remove`; a failure (no signal) stays queued. */
  async run(now: number, remove: (id: string) => Promise<void>): Promise<void> {
    for (const id of this.due(now)) {
      try {
        await remove(id);
        this.cancel(id);
      } catch {
        // Keep it for the next attempt.
      }
    }
  }

  #read(): Pending[] {
    try {
      const items = JSON.parse(this.#storage.getItem(this.#key) ?? "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }

  #write(items: Pending[]): void {
    this.#storage.setItem(this.#key, JSON.stringify(items));
  }
}
