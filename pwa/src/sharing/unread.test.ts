import { expect, test } from "vitest";
import { SeenContributions } from "./unread";
import { memoryStorage } from "../test-storage";
import { CONVERSATION_TYPE, type ConversationDoc } from "../sync/schema";

function conversation(ids: [string, string][]): ConversationDoc {
  return {
    type: CONVERSATION_TYPE,
    schemaVersion: 1,
    createdAt: 1,
    ownerId: "me",
    topic: "t",
    shown: { description: null, learning: null },
    roles: {},
    contributions: ids.map(([id, authorId]) => ({ id, authorId, role: "Social worker", createdAt: 1, text: id })),
  };
}

test("contributions by others are unread until shown; one's own never are", () => {
  const seen = new SeenContributions("me", memoryStorage());
  const first = conversation([["a", "peer"], ["b", "me"]]);
  expect(seen.unseen("c1", first.contributions)).toEqual(["a"]);
  seen.markSeen("c1", first.contributions);
  expect(seen.unseen("c1", first.contributions)).toEqual([]);
  const later = conversation([["a", "peer"], ["b", "me"], ["c", "peer"]]);
  expect(seen.unseen("c1", later.contributions)).toEqual(["c"]);
  expect(seen.unseen("c2", later.contributions)).toEqual(["a", "c"]);
});
