// Finding merges worth a second look, on real Automerge documents forked
// (two devices going offline with the same entry) and merged again.
import { afterEach, describe, expect, test } from "vitest";
import * as A from "@automerge/automerge";
import { Repo, type DocHandle, type DocumentId } from "@automerge/automerge-repo/slim";
import { DraftStore } from "./drafts";
import { authorMessage, concurrentEdits, entryMerges, recordMarks, type Author } from "./merges";
import { newDraft, newNote, type EntryDoc, type RootDoc } from "./schema";

const PHONE: Author = { deviceId: "device-phone", device: "Chrome on Android" };
const LAPTOP: Author = { deviceId: "device-laptop", device: "Chrome on Linux" };

function entry(): A.Doc<EntryDoc> {
  const start = A.from<EntryDoc>({ ...newDraft(newNote("n1", PHONE.device, "Visit note", 1)), description: "I used an interpreter." }, { actor: "aa".repeat(16) });
  return A.change(start, authorMessage(PHONE), (doc) => void (doc.activityType = "Reflection on practice"));
}

/** Another device's copy, as it is after syncing. */
function fork(doc: A.Doc<EntryDoc>, actor: string): A.Doc<EntryDoc> {
  return A.clone(doc, { actor: actor.repeat(32).slice(0, 32) });
}

function edit(doc: A.Doc<EntryDoc>, author: Author, change: (doc: EntryDoc) => void): A.Doc<EntryDoc> {
  return A.change(doc, authorMessage(author), change);
}

function appendTo(field: "description" | "learning" | "title", text: string) {
  return (doc: EntryDoc) => A.splice(doc, [field], doc[field].length, 0, text);
}

/** `into` receiving `from`'s changes; returns the marks found and the merged document. */
function receive(into: A.Doc<EntryDoc>, from: A.Doc<EntryDoc>) {
  const before = into;
  const after = A.merge(A.clone(into), from);
  return { marks: concurrentEdits(before, after), after };
}

describe("text fields changed on two devices while apart", () => {
  test("are marked, with each side's device and its text as it was before the merge", () => {
    const base = entry();
    const phone = edit(fork(base, "b"), PHONE, appendTo("description", " We met first."));
    const laptop = edit(fork(base, "c"), LAPTOP, appendTo("description", " Teach-back helped."));

    const onLaptop = receive(laptop, phone);
    expect(Object.keys(onLaptop.marks)).toEqual(["description"]);
    const merged = A.change(onLaptop.after, (doc) => recordMarks(doc, onLaptop.marks));
    expect(merged.description).toContain("We met first.");
    expect(merged.description).toContain("Teach-back helped.");

    const seen = entryMerges(merged, LAPTOP.deviceId);
    expect(seen.choices).toEqual([]);
    expect(seen.texts).toHaveLength(1);
    expect(seen.texts[0].field).toBe("description");
    expect(new Set(seen.texts[0].versions)).toEqual(
      new Set([
        { device: PHONE.device, thisDevice: false, text: "I used an interpreter. We met first." },
        { device: LAPTOP.device, thisDevice: true, text: "I used an interpreter. Teach-back helped." },
      ]),
    );
  });

  test("both devices find the same mark, so finding it on each at once agrees", () => {
    const base = entry();
    const phone = edit(fork(base, "b"), PHONE, appendTo("description", " A"));
    const laptop = edit(fork(base, "c"), LAPTOP, appendTo("description", " B"));
    const onPhone = receive(phone, laptop).marks;
    const onLaptop = receive(laptop, phone).marks;
    expect(onPhone.description.sides.map((side) => side.device).sort()).toEqual([LAPTOP.device, PHONE.device].sort());
    expect(onPhone).toEqual(onLaptop);
  });

  test("sequential edits from two devices are not marked, whichever receives", () => {
    const base = entry();
    const phone = edit(fork(base, "b"), PHONE, appendTo("description", " First the phone."));
    // The laptop had the phone's change before it wrote.
    const laptop = edit(A.merge(fork(base, "c"), phone), LAPTOP, appendTo("description", " Then the laptop."));
    expect(receive(phone, laptop).marks).toEqual({});
    expect(receive(laptop, phone).marks).toEqual({});
    expect(receive(base, laptop).marks).toEqual({});
  });

  test("a local edit and loading a document are not merges", () => {
    const base = entry();
    expect(concurrentEdits(base, edit(A.clone(base), PHONE, appendTo("description", " more")))).toEqual({});
    expect(concurrentEdits(A.init<EntryDoc>(), A.clone(base))).toEqual({});
  });

  test("different fields changed on each side are not marked", () => {
    const base = entry();
    const phone = edit(fork(base, "b"), PHONE, appendTo("description", " Phone."));
    const laptop = edit(fork(base, "c"), LAPTOP, appendTo("learning", "Laptop."));
    expect(receive(laptop, phone).marks).toEqual({});
    expect(receive(phone, laptop).marks).toEqual({});
  });

  test("the peer reflection's text is marked like the others", () => {
    const base = edit(entry(), PHONE, (doc) => void (doc.peerReflection = { peerRole: "Nurse", discussedOn: null, text: "We talked." }));
    const phone = edit(fork(base, "b"), PHONE, (doc) => A.splice(doc, ["peerReflection", "text"], 10, 0, " On the phone."));
    const laptop = edit(fork(base, "c"), LAPTOP, (doc) => A.splice(doc, ["peerReflection", "text"], 0, 0, "Today: "));
    expect(Object.keys(receive(laptop, phone).marks)).toEqual(["peerReflection.text"]);
  });

  test("a device that sees the merge later, already merged and edited on, gets the mark from the entry", () => {
    const base = entry();
    const phone = edit(fork(base, "b"), PHONE, appendTo("description", " A"));
    const laptop = edit(fork(base, "c"), LAPTOP, appendTo("description", " B"));
    const onLaptop = receive(laptop, phone);
    const marked = A.change(onLaptop.after, authorMessage(LAPTOP), (doc) => recordMarks(doc, onLaptop.marks));
    const editedOn = edit(marked, LAPTOP, appendTo("title", "Interpreters"));
    // To the phone this only moves forward: it finds nothing itself...
    const onPhone = receive(phone, editedOn);
    expect(onPhone.marks).toEqual({});
    // ...and shows the mark the laptop recorded, with its own side as this device.
    const versions = entryMerges(onPhone.after, PHONE.deviceId).texts[0].versions;
    expect(versions.find((v) => v.thisDevice)).toEqual({ device: PHONE.device, thisDevice: true, text: "I used an interpreter. A" });
    expect(versions.find((v) => !v.thisDevice)).toEqual({ device: LAPTOP.device, thisDevice: false, text: "I used an interpreter. B" });
  });

  test("a dismissal on one device clears the mark on the other", () => {
    const base = entry();
    const phone = edit(fork(base, "b"), PHONE, appendTo("description", " A"));
    const laptop = edit(fork(base, "c"), LAPTOP, appendTo("description", " B"));
    const onLaptop = receive(laptop, phone);
    const laptopMarked = A.change(onLaptop.after, authorMessage(LAPTOP), (doc) => recordMarks(doc, onLaptop.marks));
    const onPhone = receive(phone, laptop);
    const phoneMarked = A.change(onPhone.after, authorMessage(PHONE), (doc) => recordMarks(doc, onPhone.marks));
    // Both recorded it at once; they sync, and the phone dismisses it.
    const phoneBoth = A.merge(phoneMarked, laptopMarked);
    expect(entryMerges(phoneBoth, PHONE.deviceId).texts).toHaveLength(1);
    const dismissed = edit(phoneBoth, PHONE, (doc) => void delete doc.mergeMarks.description);
    const laptopAfter = A.merge(A.merge(A.clone(laptopMarked), phoneMarked), dismissed);
    expect(entryMerges(laptopAfter, LAPTOP.deviceId).texts).toEqual([]);
    // Syncing the marks themselves finds nothing new.
    expect(receive(laptopMarked, phoneMarked).marks).toEqual({});
  });

  test("two tabs of one device are not two devices apart", () => {
    const base = entry();
    const tab1 = edit(fork(base, "b"), PHONE, appendTo("description", " A"));
    const tab2 = edit(fork(base, "c"), PHONE, appendTo("description", " B"));
    expect(receive(tab1, tab2).marks).toEqual({});
  });
});

describe("single choices made differently on two devices", () => {
  test("both values are offered, each with its device, until one is chosen on either device", () => {
    const base = entry();
    const phone = edit(fork(base, "b"), PHONE, (doc) => void (doc.activityType = "Reading or research"));
    const laptop = edit(fork(base, "c"), LAPTOP, (doc) => void (doc.activityType = "Course, training or e-learning"));
    const merged = A.merge(A.clone(laptop), phone);
    const { choices } = entryMerges(merged, LAPTOP.deviceId);
    expect(choices).toHaveLength(1);
    expect(choices[0].field).toBe("activityType");
    expect(new Set(choices[0].options)).toEqual(
      new Set([
        { value: "Reading or research", device: PHONE.device, thisDevice: false },
        { value: "Course, training or e-learning", device: LAPTOP.device, thisDevice: true },
      ]),
    );
    // The phone picks; once the laptop has that change the choice is settled there too.
    const phoneMerged = A.merge(A.clone(phone), laptop);
    const picked = edit(phoneMerged, PHONE, (doc) => void (doc.activityType = "Course, training or e-learning"));
    expect(entryMerges(picked, PHONE.deviceId).choices).toEqual([]);
    const laptopAfter = A.merge(merged, picked);
    expect(laptopAfter.activityType).toBe("Course, training or e-learning");
    expect(entryMerges(laptopAfter, LAPTOP.deviceId).choices).toEqual([]);
  });

  test("a choice changed in turn, or the same value chosen on both, is not offered", () => {
    const base = entry();
    const phone = edit(fork(base, "b"), PHONE, (doc) => void (doc.activityType = "Reading or research"));
    const laptop = edit(A.merge(fork(base, "c"), phone), LAPTOP, (doc) => void (doc.activityType = "Supervision"));
    expect(entryMerges(A.merge(A.clone(phone), laptop), PHONE.deviceId).choices).toEqual([]);
    const same = edit(fork(base, "d"), LAPTOP, (doc) => void (doc.activityType = "Reading or research"));
    expect(entryMerges(A.merge(A.clone(phone), same), PHONE.deviceId).choices).toEqual([]);
  });

  test("the peer's role and the dates are choices too", () => {
    const base = edit(entry(), PHONE, (doc) => void (doc.peerReflection = { peerRole: "Nurse", discussedOn: null, text: "" }));
    const phone = edit(fork(base, "b"), PHONE, (doc) => {
      doc.peerReflection!.peerRole = "Teacher";
      doc.activityDate = "2026-03-01";
    });
    const laptop = edit(fork(base, "c"), LAPTOP, (doc) => {
      doc.peerReflection!.peerRole = "Psychologist";
      doc.activityDate = "2026-03-02";
    });
    const { choices } = entryMerges(A.merge(A.clone(phone), laptop), PHONE.deviceId);
    expect(choices.map((c) => c.field)).toEqual(["activityDate", "peerReflection.peerRole"]);
    expect(choices[1].options.map((o) => o.value).sort()).toEqual(["Psychologist", "Teacher"]);
  });
});

describe("DraftStore", () => {
  const repos: Repo[] = [];
  afterEach(async () => {
    await Promise.all(repos.splice(0).map((repo) => repo.shutdown()));
  });

  /** A device with no network: it syncs only when the test merges by hand.
   * With `copyOf`, it starts with that entry, as after syncing it. */
  async function device(name: string, id: string, copyOf?: DocHandle<EntryDoc>) {
    const repo = new Repo({ network: [] });
    repos.push(repo);
    const entries = copyOf ? { [copyOf.documentId]: { addedAt: 1 } } : {};
    if (copyOf) repo.import<EntryDoc>(A.save(copyOf.doc()), { docId: copyOf.documentId });
    const root = repo.create<RootDoc>({ type: "fieldbook/root", schemaVersion: 1, entries, settings: {} });
    const store = new DraftStore(repo, root, name, id);
    if (copyOf) await store.whenLoaded(copyOf.documentId);
    return { repo, store, handle: (entry: DocumentId) => repo.find<EntryDoc>(entry) };
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(check()).toBe(true);
  }

  test("marks a merge on both devices, shows both versions, and settles a choice and a mark on both", async () => {
    const phone = await device("Chrome on Android", "phone-1");
    const { id } = phone.store.create("Visit");
    phone.store.setText(id, "description", "I used an interpreter.");
    const phoneHandle = await phone.handle(id);
    const laptop = await device("Chrome on Linux", "laptop-1", phoneHandle);
    const laptopHandle = await laptop.handle(id);

    // Both offline, both edit.
    phone.store.setText(id, "description", "I used an interpreter. We met first.");
    phone.store.setFields(id, { activityType: "Reading or research" });
    laptop.store.setText(id, "description", "I used an interpreter. Teach-back helped.");
    laptop.store.setFields(id, { activityType: "Supervision" });

    // Back online: each receives the other's changes at once, then the marks.
    const phoneOffline = phoneHandle.doc();
    phoneHandle.merge(laptopHandle);
    laptopHandle.update((doc) => A.merge(doc, phoneOffline));
    await until(() => phone.store.merges(id).texts.length === 1 && laptop.store.merges(id).texts.length === 1);
    phoneHandle.merge(laptopHandle);
    laptopHandle.merge(phoneHandle);
    expect(Object.keys(laptopHandle.doc().mergeMarks)).toEqual(["description"]);

    const onLaptop = laptop.store.merges(id);
    expect(onLaptop.texts[0].versions.find((v) => !v.thisDevice)).toEqual({ device: "Chrome on Android", thisDevice: false, text: "I used an interpreter. We met first." });
    expect(onLaptop.choices[0].options.map((o) => [o.value, o.device, o.thisDevice]).sort()).toEqual([
      ["Reading or research", "Chrome on Android", false],
      ["Supervision", "Chrome on Linux", true],
    ]);
    expect(phone.store.merges(id).choices[0].options.find((o) => o.thisDevice)?.value).toBe("Reading or research");

    // The phone picks the laptop's choice and dismisses the mark; the laptop follows.
    phone.store.choose(id, "activityType", "Supervision");
    phone.store.dismissMerge(id, "description");
    expect(phone.store.merges(id)).toEqual({ texts: [], choices: [] });
    laptopHandle.merge(phoneHandle);
    expect(laptop.store.merges(id)).toEqual({ texts: [], choices: [] });
    const merged = laptop.store.get(id)?.doc;
    expect(merged?.activityType).toBe("Supervision");
    expect(merged?.description).toContain("We met first.");
    expect(merged?.description).toContain("Teach-back helped.");
  });

  test("edits made in turn on two devices are not marked", async () => {
    const phone = await device("Chrome on Android", "phone-3");
    const { id } = phone.store.create("Visit");
    const phoneHandle = await phone.handle(id);
    const laptop = await device("Chrome on Linux", "laptop-3", phoneHandle);
    const laptopHandle = await laptop.handle(id);
    phone.store.setText(id, "description", "Phone first.");
    phone.store.setFields(id, { activityType: "Reading or research" });
    laptopHandle.merge(phoneHandle);
    laptop.store.setText(id, "description", "Phone first. Laptop next.");
    laptop.store.setFields(id, { activityType: "Supervision" });
    phoneHandle.merge(laptopHandle);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(phone.store.merges(id)).toEqual({ texts: [], choices: [] });
    expect(laptop.store.merges(id)).toEqual({ texts: [], choices: [] });
    expect(phoneHandle.doc().mergeMarks).toEqual({});
  });

  test("using one side's version puts its text back and clears the mark", async () => {
    const phone = await device("Phone", "phone-2");
    const { id } = phone.store.create("Visit");
    const handle = await phone.handle(id);
    const laptopDoc = A.change(A.clone(handle.doc()), authorMessage({ deviceId: "laptop-2", device: "Laptop" }), (doc) => A.splice(doc, ["learning"], 0, 0, "Laptop words."));
    phone.store.setText(id, "learning", "Phone words.");
    handle.update((doc) => A.merge(doc, laptopDoc));
    await until(() => phone.store.merges(id).texts.length === 1);
    const laptopVersion = phone.store.merges(id).texts[0].versions.find((v) => !v.thisDevice)!;
    expect(laptopVersion).toEqual({ device: "Laptop", thisDevice: false, text: "Laptop words." });
    phone.store.useVersion(id, "learning", laptopVersion.text);
    expect(phone.store.get(id)?.doc?.learning).toBe("Laptop words.");
    expect(phone.store.merges(id).texts).toEqual([]);
  });
});
