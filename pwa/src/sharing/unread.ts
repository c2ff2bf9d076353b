// Which contributions (to a conversation, a supervisor's comments on an
// entry, a group session) this device has shown its user, so new ones from
// others are marked. Kept per device (local/keys.ts): reading
// on the phone does not mark the laptop's copy as read.

import { USER_KEYS } from "../local/keys";
import { json, Stored } from "../local/stored";
import type { Contribution } from "../sync/schema";

const seenCodec = json((value): Record<string, string[]> | undefined =>
  value && typeof value === "object" && !Array.isArray(value) && Object.values(value).every((ids) => Array.isArray(ids)) ? (value as Record<string, string[]>) : undefined,
);

export class SeenContributions {
  readonly #stored: Stored<Record<string, string[]>>;
  readonly #userId: string;

  /** `storage` is localStorage unless given. */
  constructor(userId: string, storage?: Storage) {
    this.#stored = new Stored(USER_KEYS.seen(userId), seenCodec, {}, storage);
    this.#userId = userId;
  }

  /** Contributions by others this device has not shown yet; `key` names the
   * list (a conversation's id, "<supervision id>/<entry id>", …). */
  unseen(key: string, contributions: readonly Contribution[]): string[] {
    const seen = new Set(this.#stored.read()[key] ?? []);
    return contributions.filter((c) => c.authorId !== this.#userId && !seen.has(c.id)).map((c) => c.id);
  }

  markSeen(key: string, contributions: readonly Contribution[]): void {
    const stored = this.#stored.read();
    const ids = contributions.map((c) => c.id);
    if ((stored[key] ?? []).join() !== ids.join()) this.#stored.write({ ...stored, [key]: ids });
  }
}
