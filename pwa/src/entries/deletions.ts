// Deleting a draft is two steps: it leaves the list at once (on every
// device, through the root document), and after the undo window the server
// deletes its data for good. The second step is queued on the device (local/keys.ts) so it
// survives a reload and waits for signal.

import { USER_KEYS } from "../local/keys";
import { json, Stored } from "../local/stored";

export const UNDO_WINDOW_MS = 10_000;

interface Pending {
  id: string;
  notBefore: number;
}

const isPending = (item: Pending | null): item is Pending => typeof item?.id === "string" && typeof item.notBefore === "number";
const pendingList = json((value) => (Array.isArray(value) ? value.filter(isPending) : undefined));

export class DeletionQueue {
  readonly #stored: Stored<Pending[]>;

  /** `userId`'s queue on this device; `storage` is localStorage unless given. */
  constructor(userId: string, storage?: Storage) {
    this.#stored = new Stored(USER_KEYS.deletions(userId), pendingList, [], storage);
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
    return this.#stored.read();
  }

  #write(items: Pending[]): void {
    this.#stored.write(items);
  }
}
