// Peer learning groups on real automerge-repo documents: the owner's and a
// member's devices joined by a BroadcastChannel (see testing.ts).
import { afterEach, describe, expect, test } from "vitest";
import { ConversationStore } from "./conversations";
import { GroupStore } from "./groups";
import { memoryStorage } from "../test-storage";
import { closeSharingDevices, newRoot, sharingDevice, shareWith, until } from "./testing";

let run = 0;

afterEach(closeSharingDevices);

async function ownerAndMember() {
  const channel = `groups-${++run}`;
  const ownerRepo = sharingDevice(`gr-owner-${run}`, channel);
  const memberRepo = sharingDevice(`gr-member-${run}`, channel);
  const memberRoot = newRoot(memberRepo);
  const owner = new GroupStore(new ConversationStore(ownerRepo, newRoot(ownerRepo), "user-owner", "owner-device", memoryStorage()));
  const memberShared = new ConversationStore(memberRepo, memberRoot, "user-member", "member-device", memoryStorage());
  const member = new GroupStore(memberShared);
  const id = owner.start("Lone workers' peer learning group", "Social worker");
  expect(await memberShared.join(id, "Occupational therapist")).toBe("fieldbook/group");
  shareWith(memberRoot, id, "writer");
  return { owner, member, memberRoot, id };
}

describe("GroupStore", () => {
  test("sessions and what was discussed reach every member, each part by role", async () => {
    const { owner, member, id } = await ownerAndMember();
    await until(() => !!member.get(id)?.doc, "the group at the member");
    expect(member.list().map((record) => [record.id, record.access])).toEqual([[id, "writer"]]);
    const sessionId = owner.addSession(id, "2026-02-10", "Working with interpreters")!;
    await until(() => !!member.get(id)?.doc?.sessions.length, "the session at the member");
    member.addToSession(id, sessionId, "We compared how each team briefs interpreters.");
    owner.addToSession(id, sessionId, "Teach-back came up twice.");
    for (const side of [owner, member]) {
      await until(() => side.get(id)?.doc?.sessions[0]?.discussed.length === 2, "both parts of the discussion");
    }
    const said = (side: GroupStore) => side.get(id)!.doc!.sessions[0].discussed.map((c) => `${c.role}: ${c.text}`).sort();
    expect(said(owner)).toEqual(["Occupational therapist: We compared how each team briefs interpreters.", "Social worker: Teach-back came up twice."]);
    expect(said(member)).toEqual(said(owner));
  });

  test("sessions added on two sides at once are both kept", async () => {
    const { owner, member, id } = await ownerAndMember();
    await until(() => !!member.get(id)?.doc, "the group at the member");
    owner.addSession(id, "2026-03-01", "Self-neglect");
    member.addSession(id, "2026-03-01", "Mental capacity");
    for (const side of [owner, member]) {
      await until(() => side.get(id)?.doc?.sessions.length === 2, "both sessions");
    }
    expect(owner.get(id)!.doc!.sessions.map((s) => s.topic).sort()).toEqual(["Mental capacity", "Self-neglect"]);
  });

  test("a member links a session to their own entry as its peer discussion; the group never holds the link", async () => {
    const { owner, member, id } = await ownerAndMember();
    const sessionId = owner.addSession(id, "2026-02-10", "Working with interpreters")!;
    await until(() => !!member.get(id)?.doc?.sessions.length, "the session at the member");
    member.linkSession("entry-9", { groupId: id, sessionId });
    expect(member.linkedSession("entry-9")?.session?.topic).toBe("Working with interpreters");
    expect(member.entriesLinkedTo(id, sessionId)).toEqual(["entry-9"]);
    expect(owner.linkedSession("entry-9")).toBeNull();
    expect(JSON.stringify(member.get(id)!.doc)).not.toContain("entry-9");
    member.linkSession("entry-9", null);
    expect(member.linkedSession("entry-9")).toBeNull();
  });

  test("a reader cannot add sessions or write in them", async () => {
    const { owner, member, memberRoot, id } = await ownerAndMember();
    const sessionId = owner.addSession(id, "2026-02-10", "Working with interpreters")!;
    await until(() => !!member.get(id)?.doc?.sessions.length, "the session at the member");
    shareWith(memberRoot, id, "reader");
    expect(member.addSession(id, "2026-02-11", "Another")).toBeNull();
    expect(member.addToSession(id, sessionId, "Hello")).toBeNull();
  });
});
