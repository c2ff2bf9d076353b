import { describe, expect, test } from "vitest";
import { sameHeads, SyncLedger, syncStatus } from "./status";
import { USER_KEYS } from "../local/keys";
import { memoryStorage } from "../test-storage";

describe("syncStatus", () => {
  test("no signal or no server connection is offline, with what is waiting", () => {
    expect(syncStatus({ online: false, connected: true, waiting: 2, lastSyncedAt: 5 })).toEqual({ kind: "offline", waiting: 2, lastSyncedAt: 5 });
    expect(syncStatus({ online: true, connected: false, waiting: 0, lastSyncedAt: null })).toEqual({ kind: "offline", waiting: 0, lastSyncedAt: null });
  });

  test("connected with changes waiting is syncing; with none, up to date", () => {
    expect(syncStatus({ online: true, connected: true, waiting: 3, lastSyncedAt: 5 })).toEqual({ kind: "syncing", waiting: 3 });
    expect(syncStatus({ online: true, connected: true, waiting: 0, lastSyncedAt: 7 })).toEqual({ kind: "synced", lastSyncedAt: 7 });
  });
});

describe("sameHeads", () => {
  test("compares heads as sets", () => {
    expect(sameHeads(["a", "b"], ["b", "a"])).toBe(true);
    expect(sameHeads(["a"], ["a", "b"])).toBe(false);
    expect(sameHeads(undefined, [])).toBe(false);
  });
});

describe("SyncLedger", () => {
  test("remembers acknowledged heads and the last sync across instances", () => {
    const storage = memoryStorage();
    const ledger = new SyncLedger("ledger", storage);
    expect(ledger.isAcknowledged("doc", ["h1"])).toBe(false);
    expect(ledger.acknowledge("doc", ["h1"])).toBe(true);
    expect(ledger.acknowledge("doc", ["h1"])).toBe(false);
    ledger.markSynced(1234);

    const reloaded = new SyncLedger("ledger", storage);
    expect(reloaded.isAcknowledged("doc", ["h1"])).toBe(true);
    expect(reloaded.isAcknowledged("doc", ["h2"])).toBe(false);
    expect(reloaded.lastSyncedAt).toBe(1234);
  });

  test("a damaged ledger starts afresh instead of failing", () => {
    const storage = memoryStorage();
    storage.setItem(USER_KEYS.synced("ledger"), "{not json");
    const ledger = new SyncLedger("ledger", storage);
    expect(ledger.lastSyncedAt).toBeNull();
    expect(ledger.isAcknowledged("doc", ["h"])).toBe(false);
  });
});
