import { afterEach, expect, test } from "vitest";
import { asDraftId } from "../sync/ids";
import type { DraftStore } from "../sync/drafts";
import { closeMemoryDrafts, memoryDrafts } from "../sync/testing";
import { memoryStorage } from "../test-storage";
import { captureMemory } from "./pending";
import { settleCapture } from "./settle";

afterEach(closeMemoryDrafts);

const notes = (store: DraftStore) => store.list().map((draft) => draft.doc?.notes.map((note) => note.text));

test("words typed before the drafts loaded become a draft, once", async () => {
  const store = memoryDrafts();
  const memory = captureMemory("capture", memoryStorage());
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
  const store = memoryDrafts();
  const { id, noteId } = store.create("Met the family");
  const memory = captureMemory("capture", memoryStorage());
  const target = { draftId: id, noteId };
  memory.write({
    target: null,
    base: "",
    text: "",
    // Typed onto the note, then "Start a new note" before the drafts loaded.
    earlier: [{ target, base: "Met the family", text: "Met the family at home" }],
  });
  await settleCapture(store, memory);
  expect(store.get(asDraftId(id))?.doc?.notes.map((note) => note.text)).toEqual(["Met the family at home"]);
  expect(memory.read()).toEqual({ target: null, base: "", text: "" });

  // Changed elsewhere meanwhile: the typed words are kept as a note of their own.
  memory.write({ target, base: "Met the family at home", text: "Met the family at home. Dog friendly." });
  store.setNoteText(id, noteId, "Met the whole family at home");
  const { state } = await settleCapture(store, memory);
  expect(store.get(id)?.doc?.notes.map((note) => note.text)).toEqual(["Met the whole family at home", ". Dog friendly."]);
  expect(state.target?.noteId).not.toBe(noteId);
});
