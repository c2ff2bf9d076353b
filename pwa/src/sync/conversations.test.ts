// Peer conversations on real automerge-repo documents: two users' devices
// joined by a BroadcastChannel (the server's access control is tested on
// the server; here the document model and what each side's app does).
import { afterEach, describe, expect, test } from "vitest";
import { IndexedDBStorageAdapter } from "@automerge/automerge-repo-storage-indexeddb";
import { ConversationStore } from "./conversations";
import { memoryStorage } from "../test-storage";
import type { RootDoc } from "./schema";
import { closeSharingDevices, newRoot, sharingDevice as device, shareWith, until } from "./testing";

let run = 0;

afterEach(closeSharingDevices);

async function ownerAndPeer() {
  const channel = `conversations-${++run}`;
  const ownerRepo = device(`owner-${run}`, channel);
  const peerRepo = device(`peer-${run}`, channel);
  const ownerRoot = newRoot(ownerRepo);
  const peerRoot = newRoot(peerRepo);
  const owner = new ConversationStore(ownerRepo, ownerRoot, "user-owner", "owner-device", memoryStorage());
  const peerStorage = memoryStorage();
  const peer = new ConversationStore(peerRepo, peerRoot, "user-peer", "peer-device", peerStorage);
  const id = owner.start("entry-1", { topic: "Working with interpreters", description: "A briefing on interpreters.", learning: null, role: "Social worker" });
  return { owner, ownerRepo, peer, peerRepo, peerRoot, peerStorage, id };
}

describe("ConversationStore", () => {
  test("a conversation started from an entry is listed for that entry, on the owner's other device too", async () => {
    const channel = `conversations-${++run}`;
    const phoneRepo = device(`owner-phone-${run}`, channel);
    const root = newRoot(phoneRepo);
    const phone = new ConversationStore(phoneRepo, root, "user-owner", "phone", memoryStorage());
    const id = phone.start("entry-1", { topic: "Working with interpreters", description: "A briefing on interpreters.", learning: null, role: "Social worker" });
    expect(phone.forEntry("entry-1")?.id).toBe(id);
    expect(phone.forEntry("entry-1")?.doc?.shown).toEqual({ description: "A briefing on interpreters.", learning: null });
    expect(phone.forEntry("entry-1")?.doc?.roles).toEqual({ "user-owner": "Social worker" });
    const laptopRepo = device(`owner-laptop-${run}`, channel);
    const laptop = new ConversationStore(laptopRepo, await laptopRepo.find<RootDoc>(root.url), "user-owner", "laptop", memoryStorage());
    await until(() => !!laptop.forEntry("entry-1")?.doc, "the laptop to find the conversation");
    expect(laptop.forEntry("entry-1")?.access).toBe("owner");
    expect(laptop.forEntry("entry-1")?.doc?.topic).toBe("Working with interpreters");
  });

  test("a peer who joins writes with their role, and both sides see both contributions", async () => {
    const { owner, peer, peerRoot, id } = await ownerAndPeer();
    expect(await peer.join(id, "Senior practitioner")).toBe("fieldbook/conversation");
    shareWith(peerRoot, id);
    owner.contribute(id, "What did you notice about the briefing?");
    peer.contribute(id, "Meeting the interpreter first changed the visit.");
    for (const side of [owner, peer]) {
      await until(() => side.conversation(id)?.doc?.contributions.length === 2, "both contributions");
    }
    const seen = (side: ConversationStore) => side.conversation(id)!.doc!.contributions.map((c) => `${c.role}: ${c.text}`).sort();
    expect(seen(owner)).toEqual(["Senior practitioner: Meeting the interpreter first changed the visit.", "Social worker: What did you notice about the briefing?"]);
    expect(seen(peer)).toEqual(seen(owner));
    expect(peer.conversation(id)?.access).toBe("writer");
    expect(peer.shared().map((share) => [share.id, share.kind, share.title])).toEqual([[id, "fieldbook/conversation", "Working with interpreters"]]);
  });

  test("a reader is never let write", async () => {
    const { peer, peerRoot, id } = await ownerAndPeer();
    await peer.join(id, "Manager or supervisor");
    peerRoot.change((doc) => {
      doc.shared = { [id]: { role: "reader", ownerDisplayName: "Sam", since: "2026-12-03T15:00:00Z" } };
    });
    expect(peer.conversation(id)?.access).toBe("reader");
    expect(peer.contribute(id, "An edit")).toBeNull();
    expect(peer.conversation(id)?.doc?.contributions).toEqual([]);
  });

  test("when the share ends the peer's copy is deleted and the peer is told, once, by the conversation's title", async () => {
    const { ownerRepo, peer, peerRepo, peerRoot, peerStorage, id } = await ownerAndPeer();
    await peer.join(id, "Senior practitioner");
    shareWith(peerRoot, id);
    await peerRepo.flush([id]);
    await until(() => !!peerStorage.getItem("fieldbook.shares.user-peer")?.includes(id), "the share to be known on this device");
    // The owner goes quiet, as the server does towards a removed member.
    await ownerRepo.shutdown().catch(() => undefined);
    expect(peer.handles().map((handle) => handle.documentId)).toEqual([id]);
    peerRoot.change((doc) => {
      delete doc.shared![id];
    });
    expect(peer.notices()).toEqual(["Working with interpreters"]);
    expect(peer.conversation(id)).toBeUndefined();
    expect(peer.handles()).toEqual([]);
    const storage = new IndexedDBStorageAdapter(`peer-${run}`);
    let left = -1;
    await until(() => {
      void storage.loadRange([id]).then((chunks) => (left = chunks.length));
      return left === 0;
    }, "the copy on this device to be deleted");
    peer.dismissNotices();
    // Reopened later (the same device's memory of its shares): nothing to tell again.
    const reopened = new ConversationStore(peerRepo, peerRoot, "user-peer", "peer-device", peerStorage);
    expect(reopened.notices()).toEqual([]);
  });

  test("a share that ended while this device was closed is told when it next opens", async () => {
    const { peer, peerRepo, peerRoot, peerStorage, id } = await ownerAndPeer();
    await peer.join(id, "Senior practitioner");
    shareWith(peerRoot, id);
    await until(() => !!peerStorage.getItem("fieldbook.shares.user-peer")?.includes(id), "the share to be known on this device");
    // This device's memory of its shares, as it was when the app closed.
    const memoryThen = peerStorage.getItem("fieldbook.shares.user-peer")!;
    expect(JSON.parse(memoryThen)).toEqual({ [id]: "Working with interpreters" });
    peerRoot.change((doc) => {
      delete doc.shared![id];
    });
    const later = memoryStorage();
    later.setItem("fieldbook.shares.user-peer", memoryThen);
    const reopened = new ConversationStore(peerRepo, peerRoot, "user-peer", "peer-device", later);
    expect(reopened.notices()).toEqual(["Working with interpreters"]);
    expect(JSON.parse(later.getItem("fieldbook.shares.user-peer")!)).toEqual({});
  });

  test("the owner takes a removed member's role off the conversation; a member cannot", async () => {
    const { owner, peer, peerRoot, id } = await ownerAndPeer();
    await peer.join(id, "Senior practitioner");
    shareWith(peerRoot, id);
    await until(() => owner.conversation(id)?.doc?.roles["user-peer"] === "Senior practitioner", "the peer's role at the owner");
    peer.forgetParticipant(id, "user-owner");
    owner.forgetParticipant(id, "user-peer");
    await until(() => peer.conversation(id)?.doc?.roles["user-peer"] === undefined, "the removal at the peer");
    expect(owner.conversation(id)?.doc?.roles).toEqual({ "user-owner": "Social worker" });
  });
});
