import { describe, expect, test } from "vitest";
import { CAPTURE_GAP_MS, captureMemory, EMPTY_CAPTURE, isFinished, reconcile, startNewNote, visitLabel } from "./pending";
import { memoryStorage } from "../test-storage";

const target = { draftId: "d", noteId: "n" };

test("what is being captured survives a reload; damage reads as empty", () => {
  const storage = memoryStorage();
  captureMemory("c", storage).write({ target, base: "a", text: "ab" });
  expect(captureMemory("c", storage).read()).toEqual({ target, base: "a", text: "ab" });
  storage.setItem(captureMemory("c", storage).key, "[broken");
  expect(captureMemory("c", storage).read()).toEqual(EMPTY_CAPTURE);
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
    const memory = captureMemory("k", memoryStorage());
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

describe("after a gap, Capture starts a new note", () => {
  const at = Date.parse("2026-12-01T14:05:00Z");
  const writing = { target, base: "Tom's mum was calm.", text: "Tom's mum was calm.", changedAt: at };

  test("a note changed under 30 minutes ago is still the one being written, after a reload too", () => {
    expect(isFinished(writing, at + 29 * 60_000 + 59_000, false)).toBe(false);
    expect(isFinished(writing, at, false)).toBe(false);
  });

  test("30 minutes after its last change, the note is finished", () => {
    expect(CAPTURE_GAP_MS).toBe(30 * 60_000);
    expect(isFinished(writing, at + 30 * 60_000, false)).toBe(true);
    expect(isFinished(writing, at + 3 * 86_400_000, false)).toBe(true);
  });

  test("closing the app and opening it again finishes the note at once", () => {
    expect(isFinished(writing, at + 1000, true)).toBe(true);
  });

  test("an empty field has nothing to finish; a note from before times were kept is finished", () => {
    expect(isFinished(EMPTY_CAPTURE, at + 86_400_000, true)).toBe(false);
    expect(isFinished({ target, base: "old", text: "old" }, at, false)).toBe(true);
  });

  test("words typed before the drafts loaded are kept when the note is put away", () => {
    const typed = { ...writing, text: "Tom's mum was calm. Dad came in." };
    expect(startNewNote(typed, false)).toEqual({ ...EMPTY_CAPTURE, earlier: [{ target, base: writing.base, text: typed.text }] });
  });
});

describe("the note being added to is named by its visit's day and time, UK time", () => {
  const now = Date.parse("2026-12-03T09:00:00Z"); // Thursday
  test("this week by weekday", () => {
    expect(visitLabel(Date.parse("2026-12-01T14:05:00Z"), now)).toBe("Tuesday 14:05 visit");
    expect(visitLabel(Date.parse("2026-12-03T08:30:00Z"), now)).toBe("Thursday 08:30 visit");
    expect(visitLabel(Date.parse("2026-11-27T23:59:00Z"), now)).toBe("Friday 23:59 visit");
  });

  test("in British Summer Time the clock is an hour ahead of UTC", () => {
    const june = Date.parse("2026-06-12T12:00:00Z"); // Friday
    expect(visitLabel(Date.parse("2026-06-09T13:05:00Z"), june)).toBe("Tuesday 14:05 visit");
    // 23:30 UTC on Wednesday is already Thursday in London.
    expect(visitLabel(Date.parse("2026-06-10T23:30:00Z"), june)).toBe("Thursday 00:30 visit");
  });

  test("a week or more ago the date is given too", () => {
    expect(visitLabel(Date.parse("2026-11-24T14:05:00Z"), now)).toBe("Tuesday 24 November 14:05 visit");
  });
});
