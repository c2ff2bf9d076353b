import { expect, test } from "vitest";
import { memoryStorage } from "../test-storage";
import { DeletionQueue } from "../entries/deletions";
import { captureMemory } from "../capture/pending";
import { SyncLedger } from "../sync/status";
import { knownShares } from "../sync/conversations";
import { SeenContributions } from "../sharing/unread";
import { CONVERSATION_TYPE } from "../sync/schema";
import { storageWarningDue } from "./storage";
import { DEVICE_KEYS, forgetUser, TAB_KEYS, USER_KEYS } from "../local/keys";

const ALICE = "user-alice";
const BOB = "user-bob";

const userKeys = (userId: string) => Object.values(USER_KEYS).map((key) => key(userId));

test("every registered key is its own", () => {
  const keys = [...userKeys(ALICE), ...Object.values(DEVICE_KEYS), ...Object.values(TAB_KEYS).map((key) => key(ALICE))];
  expect(new Set(keys).size).toBe(keys.length);
  // A user's own keys name the user, so another user's are never cleared
  // with them (the session, one at a time, is the exception).
  expect(userKeys(ALICE).filter((key) => !key.includes(ALICE))).toEqual([USER_KEYS.session(ALICE)]);
});

test("signing out clears every one of the user's keys and keeps the device's and other users'", async () => {
  const device = memoryStorage();
  // What the app writes, through its own modules, for two users on one device.
  for (const userId of [ALICE, BOB]) {
    new DeletionQueue(userId, device).schedule("doc-1", 0);
    new SyncLedger(userId, device).markSynced(1);
    captureMemory(userId, device).write({ target: null, base: "", text: "Typed" });
    knownShares(userId, device).write({ "doc-2": "Working with interpreters" });
    const contribution = { id: "c1", authorId: "peer", role: "Social worker", createdAt: 1, text: "Hello" };
    const conversation = { type: CONVERSATION_TYPE, schemaVersion: 1, createdAt: 1, ownerId: "peer", topic: "t", shown: { description: null, learning: null }, roles: {}, contributions: [contribution] };
    new SeenContributions(userId, device).markSeen("doc-2", conversation.contributions);
  }
  device.setItem(USER_KEYS.session(ALICE), JSON.stringify({ userId: ALICE, rootDocUrl: "automerge:x" }));
  expect(await storageWarningDue(device, async () => "refused")).toBe(true);
  device.setItem(DEVICE_KEYS.reflectiveModel, "gibbs");
  device.setItem(DEVICE_KEYS.storageWarningDismissed, "1");
  device.setItem("another-app", "kept");
  // Every user key is written by the modules above (or the session).
  for (const key of userKeys(ALICE)) expect(device.getItem(key), key).not.toBeNull();

  forgetUser(ALICE, device);

  for (const key of userKeys(ALICE)) expect(device.getItem(key), key).toBeNull();
  const left = Object.fromEntries(Array.from({ length: device.length }, (_, i) => device.key(i)!).map((key) => [key, device.getItem(key)]));
  expect(Object.keys(left).sort()).toEqual(
    [...Object.values(DEVICE_KEYS), "another-app", USER_KEYS.capture(BOB), USER_KEYS.deletions(BOB), USER_KEYS.synced(BOB), USER_KEYS.shares(BOB), USER_KEYS.seen(BOB)].sort(),
  );
  expect(new SyncLedger(BOB, device).lastSyncedAt).toBe(1);
  expect(captureMemory(BOB, device).read().text).toBe("Typed");
  expect(await storageWarningDue(device, async () => "refused")).toBe(false);
});
