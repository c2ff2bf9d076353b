// What the sync status line says, and the ledger behind it.
//
// The server only answers a change once it is on its disk, so the heads it
// last told us it has for a document are what is safe there. The ledger keeps
// those heads in localStorage, so even after a reload with no signal the app
// can say how many drafts have changes the server has not got.

export type SyncStatus =
  | { kind: "offline"; waiting: number; lastSyncedAt: number | null }
  | { kind: "syncing"; waiting: number }
  | { kind: "synced"; lastSyncedAt: number };

export interface SyncFacts {
  online: boolean;
  connected: boolean;
  waiting: number;
  lastSyncedAt: number | null;
}

export function syncStatus(facts: SyncFacts): SyncStatus {
  if (!facts.online || !facts.connected) {
    return { kind: "offline", waiting: facts.waiting, lastSyncedAt: facts.lastSyncedAt };
  }
  if (facts.waiting > 0 || facts.lastSyncedAt === null) {
    return { kind: "syncing", waiting: facts.waiting };
  }
  return { kind: "synced", lastSyncedAt: facts.lastSyncedAt };
}

/** Heads are sets of change hashes; order carries no meaning. */
export function sameHeads(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((head) => set.has(head));
}

interface LedgerData {
  acked: Record<string, string[]>;
  lastSyncedAt: number | null;
}

/** The heads the server has acknowledged, per document, kept across reloads. */
export class SyncLedger {
  readonly #key: string;
  readonly #storage: Storage;
  #data: LedgerData;

  constructor(key: string, storage: Storage) {
    this.#key = key;
    this.#storage = storage;
    this.#data = read(storage, key);
  }

  get lastSyncedAt(): number | null {
    return this.#data.lastSyncedAt;
  }

  /** Records what the server told us it has; returns whether anything changed. */
  acknowledge(documentId: string, heads: string[]): boolean {
    if (sameHeads(this.#data.acked[documentId], heads)) return false;
    this.#data.acked[documentId] = [...heads];
    this.#save();
    return true;
  }

  isAcknowledged(documentId: string, heads: string[]): boolean {
    return sameHeads(this.#data.acked[documentId], heads);
  }

  markSynced(at: number): void {
    this.#data.lastSyncedAt = at;
    this.#save();
  }

  forget(documentId: string): void {
    delete this.#data.acked[documentId];
    this.#save();
  }

  #save(): void {
    this.#storage.setItem(this.#key, JSON.stringify(this.#data));
  }
}

function read(storage: Storage, key: string): LedgerData {
  try {
    const parsed = JSON.parse(storage.getItem(key) ?? "null");
    if (parsed && typeof parsed === "object" && parsed.acked) return parsed as LedgerData;
  } catch {
    // A damaged ledger only costs an over-count of waiting drafts until the
    // next sync; start a fresh one.
  }
  return { acked: {}, lastSyncedAt: null };
}
