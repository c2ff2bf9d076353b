import { expect, test } from "vitest";
import { DeletionQueue, UNDO_WINDOW_MS } from "./deletions";
import { memoryStorage } from "../test-storage";

test("a deletion is due only after the undo window, and cancel takes it back", () => {
  const queue = new DeletionQueue("q", memoryStorage());
  queue.schedule("a", 0);
  queue.schedule("b", 0);
  expect(queue.due(UNDO_WINDOW_MS - 1)).toEqual([]);
  expect(queue.due(UNDO_WINDOW_MS)).toEqual(["a", "b"]);
  queue.cancel("a");
  expect(queue.due(UNDO_WINDOW_MS)).toEqual(["b"]);
});

test("a failed deletion (no signal) stays queued, across reloads, until it succeeds", async () => {
  const storage = memoryStorage();
  const queue = new DeletionQueue("q", storage);
  queue.schedule("a", 0);
  queue.schedule("b", 0);
  const deleted: string[] = [];
  await queue.run(UNDO_WINDOW_MS, async (id) => {
    if (id === "a") throw new Error("offline");
    deleted.push(id);
  });
  expect(deleted).toEqual(["b"]);
  const reloaded = new DeletionQueue("q", storage);
  expect(reloaded.due(UNDO_WINDOW_MS)).toEqual(["a"]);
  await reloaded.run(UNDO_WINDOW_MS, async (id) => void deleted.push(id));
  expect(deleted).toEqual(["b", "a"]);
  expect(reloaded.due(Number.MAX_SAFE_INTEGER)).toEqual([]);
});
