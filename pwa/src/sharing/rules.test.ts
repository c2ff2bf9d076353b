import { describe, expect, test } from "vitest";
import { entryFromConversation, entryFromSession, partProblem, roleProblem, shareBlocked, topicOf } from "./rules";
import { makeEntry } from "../sync/testing";
import { CONVERSATION_TYPE, GROUP_TYPE, type ConversationDoc, type GroupDoc, type GroupSession } from "../sync/schema";

describe("what an entry may share", () => {
  test("an entry with an open flag cannot be shared; kept flags do not block", () => {
    const flagged = makeEntry({ description: "I visited John Smith at home." });
    expect(shareBlocked(flagged)).toMatch(/1 possible identifying detail is still open/);
    expect(partProblem(flagged, "description")).toMatch(/identifying details/);
    expect(partProblem(flagged, "learning")).toBeNull();
    const kept = makeEntry({ description: "I visited John Smith at home.", dismissedFlags: ["name:John Smith"] });
    expect(shareBlocked(kept)).toBeNull();
    expect(partProblem(kept, "description")).toBeNull();
  });

  test("an empty part cannot be shown, and a flagged title is not used as the topic", () => {
    expect(partProblem(makeEntry({ learning: " " }), "learning")).toBe("Nothing written here yet.");
    expect(topicOf(makeEntry({ title: "Working with interpreters" }))).toBe("Working with interpreters");
    expect(topicOf(makeEntry({ title: "Visit to John Smith" }))).toBe("A piece of CPD");
  });

  test("a role is required and must not be a name", () => {
    expect(roleProblem("")).toMatch(/Give your professional role/);
    expect(roleProblem("Senior practitioner")).toBeNull();
    expect(roleProblem("Mr John Smith")).toMatch(/never a name/);
  });
});

test("the peer's own entry holds the discussion as notes by role and the owner's role as its peer", () => {
  const conversation: ConversationDoc = {
    type: CONVERSATION_TYPE,
    schemaVersion: 1,
    createdAt: 1,
    ownerId: "owner",
    topic: "Working with interpreters",
    shown: { description: "A briefing on interpreters.", learning: null },
    roles: { owner: "Social worker", peer: "Senior practitioner" },
    contributions: [
      { id: "a", authorId: "owner", role: "Social worker", createdAt: Date.UTC(2026, 10, 20, 10), text: "What did you notice?" },
      { id: "b", authorId: "peer", role: "Senior practitioner", createdAt: Date.UTC(2026, 10, 20, 11), text: "Meet the interpreter first." },
    ],
  };
  const entry = entryFromConversation(conversation, "peer", "Laptop", 5);
  expect(entry.notes.map((note) => note.text)).toEqual([
    "Peer conversation: Working with interpreters",
    "What they shared: A briefing on interpreters.",
    "Social worker: What did you notice?",
    "Me: Meet the interpreter first.",
  ]);
  expect(entry.peerReflection).toEqual({ peerRole: "Social worker", discussedOn: "2026-11-20", text: "" });
  expect(entry.activityDate).toBe("2026-11-20");
  expect(entry.status).toBe("draft");
  expect(JSON.stringify(entry)).not.toMatch(/owner"|peer"/);
});

test("an entry from a group session: the discussion as notes by role, the other members' roles as the peer, the session's day", () => {
  const group: GroupDoc = {
    type: GROUP_TYPE,
    schemaVersion: 1,
    createdAt: 1,
    ownerId: "owner",
    name: "Lone workers in adult services",
    roles: { owner: "Social worker", me: "Occupational therapist", other: "Nurse" },
    sessions: [],
  };
  const session: GroupSession = {
    id: "s1",
    createdAt: 1,
    authorId: "owner",
    date: "2026-02-10",
    topic: "Working with interpreters",
    discussed: [
      { id: "c1", authorId: "owner", role: "Social worker", createdAt: 2, text: "Teach-back came up twice." },
      { id: "c2", authorId: "me", role: "Occupational therapist", createdAt: 3, text: "We brief interpreters first." },
    ],
  };
  const entry = entryFromSession(group, session, "me", "Laptop", 10);
  expect(entry.notes.map((note) => note.text)).toEqual(["Peer learning group session: Working with interpreters", "Social worker: Teach-back came up twice.", "Me: We brief interpreters first."]);
  expect(entry.activityDate).toBe("2026-02-10");
  expect(entry.peerReflection).toEqual({ peerRole: "Peer learning group (Social worker, Nurse)", discussedOn: "2026-02-10", text: "" });
  expect(entry.title).toBe("Peer learning group: Working with interpreters");
});
