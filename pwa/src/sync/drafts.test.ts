import { afterEach, describe, expect, test } from "vitest";
import { Repo, type DocHandle, type DocumentId } from "@automerge/automerge-repo/slim";
import { IndexedDBStorageAdapter } from "@automerge/automerge-repo-storage-indexeddb";
import { BroadcastChannelNetworkAdapter } from "@automerge/automerge-repo-network-broadcastchannel";
import { DraftStore } from "./drafts";
import type { RootDoc } from "./schema";
import { COMPLETE_PEER, makeEntry } from "./testing";

const repos: Repo[] = [];
let run = 0;

afterEach(async () => {
  await Promise.all(repos.splice(0).map((repo) => repo.shutdown()));
});

/** A device: a repo with its own IndexedDB database, joined to the others by
 * a BroadcastChannel (as tabs are; the server is not needed to test merging). */
function device(database: string, channel: string): Repo {
  const repo = new Repo({
    storage: new IndexedDBStorageAdapter(database),
    network: [new BroadcastChannelNetworkAdapter({ channelName: channel })],
  });
  repos.push(repo);
  return repo;
}

function newRoot(repo: Repo): DocHandle<RootDoc> {
  return repo.create<RootDoc>({ type: "fieldbook/root", schemaVersion: 1, entries: {}, settings: {} });
}

async function openStore(repo: Repo, rootUrl: string, name: string): Promise<DraftStore> {
  const root = await repo.find<RootDoc>(rootUrl as never);
  return new DraftStore(repo, root, name);
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function noteTexts(store: DraftStore, id: DocumentId): string[] {
  return store.get(id)?.doc?.notes.map((note) => note.text) ?? [];
}

describe("DraftStore", () => {
  test("a new draft is listed with its note and survives reopening the database", async () => {
    const name = `drafts-reopen-${++run}`;
    const phone = device(name, `channel-${name}`);
    const root = newRoot(phone);
    const store = new DraftStore(phone, root, "Phone");
    const { id } = store.create("Interpreter on a home visit");
    store.addNote(id);
    expect(store.list().map((draft) => draft.id)).toEqual([id]);
    expect(noteTexts(store, id)).toEqual(["Interpreter on a home visit", ""]);
    expect(store.get(id)?.doc?.notes[0].device).toBe("Phone");
    await store.flush();
    await phone.shutdown();
    repos.splice(repos.indexOf(phone), 1);

    // The same database opened again, with nothing to sync from: a reload offline.
    const reopened = await openStore(device(name, `channel-${name}-alone`), root.url, "Phone");
    await until(() => reopened.get(id)?.doc !== null && reopened.get(id) !== undefined, "the draft to load");
    expect(noteTexts(reopened, id)).toEqual(["Interpreter on a home visit", ""]);
    expect(await reopened.whenLoaded(id)).toBe(true);
  });

  test("a new draft reaches this device's storage before the list that names it", async () => {
    // A page closed between the two writes must not leave a listed draft
    // that is on neither this device nor (if it never synced) anywhere.
    const name = `drafts-order-${++run}`;
    const disk = new IndexedDBStorageAdapter(name);
    const written: string[] = [];
    const save = disk.save.bind(disk);
    disk.save = async (key, data) => {
      await save(key, data);
      written.push(key[0]);
    };
    const repo = new Repo({ storage: disk, network: [] });
    repos.push(repo);
    const root = newRoot(repo);
    const store = new DraftStore(repo, root, "Phone");
    await store.flush();
    written.length = 0;

    const { id } = store.create("Interpreter on a home visit");
    await until(() => written.includes(root.documentId), "the list to be written");
    expect(written.indexOf(id)).toBeGreaterThanOrEqual(0);
    expect(written.indexOf(id)).toBeLessThan(written.indexOf(root.documentId));
  });

  test("concurrent edits to one note on two devices merge by character", async () => {
    const channel = `channel-merge-${++run}`;
    const phone = device(`merge-phone-${run}`, channel);
    const phoneStore = new DraftStore(phone, newRoot(phone), "Phone");
    const { id, noteId } = phoneStore.create("met family");
    const laptopStore = await openStore(device(`merge-laptop-${run}`, channel), phoneStore.handles()[0].url, "Laptop");
    await until(() => noteTexts(laptopStore, id)[0] === "met family", "the laptop to get the draft");

    // Both change the same note before hearing from the other.
    phoneStore.setNoteText(id, noteId, "met family at home");
    laptopStore.setNoteText(id, noteId, "Today: met family");
    const merged = "Today: met family at home";
    await until(() => noteTexts(phoneStore, id)[0] === merged && noteTexts(laptopStore, id)[0] === merged, "both edits on both devices");
  });

  test("removal takes a draft off every device's list, and restore brings it back", async () => {
    const channel = `channel-remove-${++run}`;
    const phone = device(`remove-phone-${run}`, channel);
    const phoneStore = new DraftStore(phone, newRoot(phone), "Phone");
    const keep = phoneStore.create("keep me").id;
    const gone = phoneStore.create("remove me").id;
    const laptopStore = await openStore(device(`remove-laptop-${run}`, channel), phoneStore.handles()[0].url, "Laptop");
    await until(() => laptopStore.list().filter((draft) => draft.doc).length === 2, "the laptop to list both drafts");

    const removed = phoneStore.remove(gone);
    expect(removed?.id).toBe(gone);
    expect(phoneStore.list().map((draft) => draft.id)).toEqual([keep]);
    await until(() => laptopStore.list().length === 1, "the laptop to drop the draft");

    phoneStore.restore(removed!);
    await until(() => laptopStore.list().length === 2 && noteTexts(laptopStore, gone)[0] === "remove me", "the laptop to get it back");
    expect(phoneStore.list().map((draft) => draft.id).sort()).toEqual([keep, gone].sort());
  });

  test("the list is ordered by last change, newest first", async () => {
    const repo = device(`order-${++run}`, `channel-order-${run}`);
    const store = new DraftStore(repo, newRoot(repo), "Phone");
    const first = store.create("first");
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = store.create("second");
    expect(store.list().map((draft) => draft.id)).toEqual([second.id, first.id]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    store.setNoteText(first.id, first.noteId, "first, edited");
    expect(store.list().map((draft) => draft.id)).toEqual([first.id, second.id]);
  });

  test("an imported entry is listed with every field, and its text still merges by character", async () => {
    const channel = `channel-import-${++run}`;
    const laptop = device(`import-laptop-${run}`, channel);
    const root = newRoot(laptop);
    const laptopStore = new DraftStore(laptop, root, "Laptop");
    const entry = { ...makeEntry({ title: "Imported", peerReflection: COMPLETE_PEER }), standards: ["4.1"] };
    const id = laptopStore.importEntry(entry);
    expect(laptopStore.list().map((draft) => draft.id)).toEqual([id]);
    expect(JSON.parse(JSON.stringify(laptopStore.get(id)?.doc))).toEqual(entry);

    const phoneStore = await openStore(device(`import-phone-${run}`, channel), root.url, "Phone");
    await until(() => !!phoneStore.get(id)?.doc, "the imported entry on the phone");
    laptopStore.setText(id, "learning", `${entry.learning} More.`);
    phoneStore.setText(id, "learning", `Before. ${entry.learning}`);
    const merged = `Before. ${entry.learning} More.`;
    await until(() => laptopStore.get(id)?.doc?.learning === merged && phoneStore.get(id)?.doc?.learning === merged, "both edits on both devices");
  });

  test("the renewal checklist is kept per registration year and reaches the other devices", async () => {
    const channel = `channel-renewal-${++run}`;
    const laptop = device(`renewal-laptop-${run}`, channel);
    const root = newRoot(laptop);
    const laptopStore = new DraftStore(laptop, root, "Laptop");
    const phoneStore = await openStore(device(`renewal-phone-${run}`, channel), root.url, "Phone");
    laptopStore.setRenewal("2025–26", "fee", true);
    phoneStore.setRenewal("2025–26", "submitted", true);
    await until(() => laptopStore.renewal("2025–26").submitted === true && phoneStore.renewal("2025–26").fee === true, "both ticks on both devices");
    laptopStore.setRenewal("2025–26", "fee", false);
    expect(laptopStore.renewal("2025–26")).toEqual({ fee: false, submitted: true });
    expect(laptopStore.renewal("2024–25")).toEqual({});
  });

  test("a paragraph is appended once: pressing Insert again adds nothing", async () => {
    const name = `drafts-append-${++run}`;
    const laptop = device(name, `channel-${name}`);
    const store = new DraftStore(laptop, newRoot(laptop), "Laptop");
    const { id } = store.create("Briefed the interpreter.");
    expect(store.appendParagraph(id, "description", "Briefed the interpreter.")).toBe(true);
    expect(store.appendParagraph(id, "description", "Briefed the interpreter.")).toBe(false);
    expect(store.appendParagraph(id, "description", "Teach-back worked.")).toBe(true);
    expect(store.appendParagraph(id, "description", "Briefed the interpreter.")).toBe(false);
    expect(store.get(id)?.doc?.description).toBe("Briefed the interpreter.\n\nTeach-back worked.");
    // The peer reflection is created for its first paragraph.
    expect(store.appendParagraph(id, "peerReflection.text", "“Meet them first.”")).toBe(true);
    expect(store.get(id)?.doc?.peerReflection?.text).toBe("“Meet them first.”");
  });

  test("the profile is kept in the root document's settings and reaches the other devices", async () => {
    const channel = `channel-profile-${++run}`;
    const laptop = device(`profile-laptop-${run}`, channel);
    const root = newRoot(laptop);
    const laptopStore = new DraftStore(laptop, root, "Laptop");
    const phoneStore = await openStore(device(`profile-phone-${run}`, channel), root.url, "Phone");
    expect(phoneStore.profile()).toEqual({ name: "", registrationNumber: "" });
    laptopStore.setProfile({ name: " Siân Ŵyn-Jones ", registrationNumber: "SW104523" });
    await until(() => phoneStore.profile().registrationNumber === "SW104523", "the profile on the phone");
    expect(phoneStore.profile()).toEqual({ name: "Siân Ŵyn-Jones", registrationNumber: "SW104523" });
    expect(root.doc().settings).toMatchObject({ "profile/name": "Siân Ŵyn-Jones", "profile/sweRegistrationNumber": "SW104523" });
    // Clearing a value removes its key; the other stays.
    phoneStore.setProfile({ name: "Siân Ŵyn-Jones", registrationNumber: "" });
    await until(() => laptopStore.profile().registrationNumber === "", "the cleared number on the laptop");
    expect(root.doc().settings).not.toHaveProperty("profile/sweRegistrationNumber");
    expect(laptopStore.profile().name).toBe("Siân Ŵyn-Jones");
  });
});
