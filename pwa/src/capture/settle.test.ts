import { afterEach, expect, test } from "vitest";
import { Repo, type DocumentId } from "@automerge/automerge-repo/slim";
import { DraftStore } from "../sync/drafts";
import type { RootDoc } from "../sync/schema";
import { memoryStorage } from "../test-storage";
import { CaptureMemory } from "./pending";
import { settleCapture } from "./settle";

const repos: Repo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((repo) => repo.shutdown()));
});

function drafts(): DraftStore {
  const repo = new Repo({ network: [] });
  repos.push(repo);
  const root = repo.create<RootDoc>({ type: "fieldbook/root", schemaVersion: 1, entries: {}, settings: {} });
  return new DraftStore(repo, root, "Phone");
}

const notes = (store: DraftStore) => store.list().map((draft) => draft.doc?.notes.map((note) => note.text));

test("words typed before the drafts loaded become a draft, once", async () => {
  const store = drafts();
  const memory = new CaptureMemory("capture", memoryStorage());
  memory.write({ target: null, base: "", text: "Interpreter on a home visit", changedAt: 1 });

  const { state, created } = await settleCapture(store, memory);
  expect(created).toBe(true);
  expect(notes(store)).toEqual([["Interpreter on a home visit"]]);
  expect(memory.read()).toEqual(state);
  expect(state).toMatchObject({ target: { draftId: store.list()[0].id }, base: "Interpreter on a home visit", text: "Interpreter on a home visit", changedAt: 1 });

  // Capture settles it again when it opens: nothing more is written.
  const again = await settleCapture(store, memory);
  expect(again).toEqual({ state, created: false });
  expect(notes(store)).toEqual([["Interpreter on a home visit"]]);
});

test("words added to a note, and notes finished before loading, go into the drafts with reconcile's rules", async () => {
  const store = drafts();
  const { id, noteId } = store.create("Met the family");
  const memory = new CaptureMemory("capture", memoryStorage());
  const target = { draftId: id, noteId };
  memory.write({
    target: null,
    base: "",
    text: "",
    // Typed onto the note, then "Start a new note" before the drafts loaded.
    earlier: [{ target, base: "Met the family", text: "Met the family at home" }],
  });
  await settleCapture(store, memory);
  expect(store.get(id as DocumentId)?.doc?.notes.map((note) => note.text)).toEqual(["Met the family at home"]);
  expect(memory.read()).toEqual({ target: null, base: "", text: "" });

  // Changed elsewhere meanwhile: the typed words are kept as a note of their own.
  memory.write({ target, base: "Met the family at home", text: "Met the family at home. Dog friendly." });
  store.setNoteText(id, noteId, "Met the whole family at home");
  const { state } = await settleCapture(store, memory);
  expect(store.get(id)?.doc?.notes.map((note) => note.text)).toEqual(["Met the whole family at home", ". Dog friendly."]);
  expect(state.target?.noteId).not.toBe(noteId);
});
