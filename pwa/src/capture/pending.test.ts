import { describe, expect, test } from "vitest";
import { CaptureMemory, EMPTY_CAPTURE, reconcile, startNewNote } from "./pending";
import { memoryStorage } from "../test-storage";

const target = { draftId: "d", noteId: "n" };

test("what is being captured survives a reload; damage reads as empty", () => {
  const storage = memoryStorage();
  new CaptureMemory("c", storage).write({ target, base: "a", text: "ab" });
  expect(new CaptureMemory("c", storage).read()).toEqual({ target, base: "a", text: "ab" });
  storage.setItem("c", "[broken");
  expect(new CaptureMemory("c", storage).read()).toEqual(EMPTY_CAPTURE);
});

describe("reconcile, once the drafts have loaded", () => {
  test("nothing typed before loading keeps the note as the drafts have it", () => {
    expect(reconcile({ target, base: "met family", text: "met family" }, "met family, edited on laptop")).toEqual({ action: "keep" });
  });

  test("words typed into an unchanged note are applied to it", () => {
    expect(reconcile({ target, base: "met family", text: "met family at home" }, "met family")).toEqual({ action: "update", text: "met family at home" });
  });

  test("if the note changed elsewhere meanwhile, the typed words become a new note instead of overwriting", () => {
    expect(reconcile({ target, base: "met family", text: "met family at home" }, "Laptop: met family")).toEqual({ action: "add-note", text: "at home" });
    expect(reconcile({ target, base: "met family", text: "we met" }, "Laptop: met family")).toEqual({ action: "add-note", text: "we met" });
  });

  test("words with no note to go into start a new draft; no words and no note start afresh", () => {
    expect(reconcile({ target: null, base: "", text: "first words" }, null)).toEqual({ action: "create", text: "first words" });
    expect(reconcile({ target, base: "x", text: "x and more" }, null)).toEqual({ action: "create", text: "x and more" });
    expect(reconcile({ target, base: "x", text: "x" }, null)).toEqual({ action: "clear" });
    expect(reconcile(EMPTY_CAPTURE, null)).toEqual({ action: "clear" });
  });
});

describe("New note before the drafts have loaded", () => {
  test("keeps the note being written until the drafts load, and survives a reload", () => {
    const memory = new CaptureMemory("k", memoryStorage());
    const first = startNewNote({ target: null, base: "", text: "typed in the first second" }, false);
    expect(first).toEqual({ ...EMPTY_CAPTURE, earlier: [{ target: null, base: "", text: "typed in the first second" }] });
    const second = startNewNote({ ...first, text: "and a second note" }, false);
    expect(second.earlier?.map((state) => state.text)).toEqual(["typed in the first second", "and a second note"]);
    memory.write(second);
    expect(memory.read()).toEqual(second);
  });

  test("once loaded, or with nothing typed, it simply clears the field", () => {
    expect(startNewNote({ target: null, base: "", text: "saved already" }, true)).toEqual(EMPTY_CAPTURE);
    expect(startNewNote({ target: null, base: "", text: "   " }, false)).toEqual(EMPTY_CAPTURE);
  });
});
