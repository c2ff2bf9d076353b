// Supervisor views on real automerge-repo documents: the owner's and the
// supervisor's devices joined by a BroadcastChannel, each with the root
// document the server would keep (see testing.ts).
import { afterEach, describe, expect, test } from "vitest";
import type { DocumentId } from "@automerge/automerge-repo/slim";
import { ConversationStore } from "./conversations";
import { SupervisionStore } from "./supervision";
import { memoryStorage } from "../test-storage";
import { closeSharingDevices, makeEntry, newRoot, sharingDevice, shareWith, until } from "./testing";
import type { EntryDoc } from "./schema";

let run = 0;

afterEach(closeSharingDevices);

async function ownerAndSupervisor() {
  const channel = `supervision-${++run}`;
  const ownerRepo = sharingDevice(`sv-owner-${run}`, channel);
  const supervisorRepo = sharingDevice(`sv-supervisor-${run}`, channel);
  const ownerRoot = newRoot(ownerRepo);
  const supervisorRoot = newRoot(supervisorRepo);
  const entry = ownerRepo.create<EntryDoc>(makeEntry({ title: "Working with interpreters" }));
  const owner = new SupervisionStore(new ConversationStore(ownerRepo, ownerRoot, "user-owner", "owner-device", memoryStorage()));
  const shared = new ConversationStore(supervisorRepo, supervisorRoot, "user-supervisor", "supervisor-device", memoryStorage());
  const supervisor = new SupervisionStore(shared);
  const entryId = entry.documentId;
  const id = owner.start({ scope: { kind: "entry", entryId }, topic: "Working with interpreters", entries: [entryId], role: "Social worker" });
  return { owner, supervisor, shared, supervisorRoot, entry, entryId, id };
}

/** What the server does when the supervisor accepts: the view to write in, the entry to read. */
async function accept(shared: ConversationStore, root: Parameters<typeof shareWith>[0], id: DocumentId, entryId: DocumentId) {
  expect(await shared.join(id, "Team manager")).toBe("fieldbook/supervision");
  shareWith(root, id, "writer");
  shareWith(root, entryId, "reader");
}

describe("SupervisionStore", () => {
  test("the supervisor reads the entry live and comments; the owner sees the comment by role, beside the entry", async () => {
    const { owner, supervisor, shared, supervisorRoot, entry, entryId, id } = await ownerAndSupervisor();
    await accept(shared, supervisorRoot, id, entryId);
    await until(() => supervisor.sharedEntry(entryId)?.title === "Working with interpreters", "the entry at the supervisor");
    expect(supervisor.get(id)?.access).toBe("writer");
    expect(supervisor.comment(id, entryId, "How did the family respond to the briefing?")).not.toBeNull();
    await until(() => owner.comments(id, entryId).length === 1, "the comment at the owner");
    expect(owner.comments(id, entryId).map((c) => `${c.role}: ${c.text}`)).toEqual(["Team manager: How did the family respond to the briefing?"]);
    expect(owner.forEntry(entryId).map((record) => record.id)).toEqual([id]);
    // The owner goes on writing: the supervisor sees it.
    entry.change((doc) => void (doc.learning = "I learnt to brief interpreters first."));
    await until(() => supervisor.sharedEntry(entryId)?.learning === "I learnt to brief interpreters first.", "the owner's edit at the supervisor");
  });

  test("only entries listed in the view can be commented on, and a reader of the view cannot comment", async () => {
    const { supervisor, shared, supervisorRoot, entryId, id } = await ownerAndSupervisor();
    await accept(shared, supervisorRoot, id, entryId);
    await until(() => !!supervisor.get(id)?.doc, "the view at the supervisor");
    expect(supervisor.comment(id, "another-entry", "Hello")).toBeNull();
    shareWith(supervisorRoot, id, "reader");
    expect(supervisor.comment(id, entryId, "Hello")).toBeNull();
  });

  test("the supervisor's store never reads an entry that is not shared with them to read", async () => {
    const { supervisor, shared, supervisorRoot, entryId, id } = await ownerAndSupervisor();
    expect(await shared.join(id, "Team manager")).toBe("fieldbook/supervision");
    shareWith(supervisorRoot, id, "writer");
    await until(() => !!supervisor.get(id)?.doc, "the view at the supervisor");
    expect(supervisor.sharedEntry(entryId)).toBeNull();
  });

  test("the owner keeps the list of shared entries; a supervisor cannot", async () => {
    const { owner, supervisor, shared, supervisorRoot, entryId, id } = await ownerAndSupervisor();
    await accept(shared, supervisorRoot, id, entryId);
    await until(() => !!supervisor.get(id)?.doc, "the view at the supervisor");
    supervisor.updateEntries(id, ["sneaked-in"], [entryId]);
    owner.updateEntries(id, ["later-entry"], []);
    await until(() => "later-entry" in (supervisor.get(id)?.doc?.entries ?? {}), "the owner's addition at the supervisor");
    expect(Object.keys(owner.get(id)!.doc!.entries).sort()).toEqual([entryId, "later-entry"].sort());
  });

  test("a year's portfolio view is found by its year", () => {
    const channel = `supervision-${++run}`;
    const repo = sharingDevice(`sv-year-${run}`, channel);
    const store = new SupervisionStore(new ConversationStore(repo, newRoot(repo), "user-owner", "device", memoryStorage()));
    const id = store.start({ scope: { kind: "year", year: "2025-26" }, topic: "CPD portfolio 2025-26", entries: [], role: "Social worker" });
    expect(store.forYear("2025-26")?.id).toBe(id);
    expect(store.forYear("2026-27")).toBeUndefined();
  });
});
