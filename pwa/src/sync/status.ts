// What the sync status line says, and the ledger behind it.
//
// The server only answers a change once it is on its disk, so the heads it
// last told us it has for a document are what is safe there. The ledger keeps
// those heads on the device (local/keys.ts), so even after a reload with no signal the app
// can say how many drafts have changes the server has not got.

import { USER_KEYS } from "../local/keys";
import { json, Stored } from "../local/stored";

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
  readonly #stored: Stored<LedgerData>;
  #data: LedgerData;

  /** `userId`'s ledger on this device; `storage` is localStorage unless given. */
  constructor(userId: string, storage?: Storage) {
    // A damaged ledger only costs an over-count of waiting drafts until the
    // next sync: it reads as a fresh one.
    this.#stored = new Stored(USER_KEYS.synced(userId), ledgerCodec, { acked: {}, lastSyncedAt: null }, storage);
    this.#data = this.#stored.read();
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
    this.#stored.write(this.#data);
  }
}

const ledgerCodec = json((parsed) => (parsed && typeof parsed === "object" && "acked" in parsed && parsed.acked ? (parsed as LedgerData) : undefined));
