import { afterEach, expect, test } from "vitest";
import { closeMemoryDrafts, memoryDrafts } from "../sync/testing";

afterEach(closeMemoryDrafts);

test("addVoiceNote puts a voice note (as the contract shapes it) into a draft, once per recording", () => {
  const drafts = memoryDrafts();
  const { id } = drafts.create("Typed first");
  const placed = drafts.addVoiceNote(id, "audio-0123456789abcdef")!;
  expect(drafts.addVoiceNote(id, "audio-0123456789abcdef")).toEqual(placed);
  const notes = drafts.get(id)!.doc!.notes;
  expect(notes).toHaveLength(2);
  expect(notes[1]).toMatchObject({ id: placed.noteId, device: "Phone", kind: "voice", text: "", audio: "audio-0123456789abcdef", transcript: null });
});

test("addVoiceNote with no draft starts one whose first note is the voice note; an unknown draft gives null", () => {
  const drafts = memoryDrafts();
  const placed = drafts.addVoiceNote(null, "audio-fedcba9876543210")!;
  expect(drafts.list().map((draft) => draft.id)).toEqual([placed.id]);
  expect(drafts.get(placed.id)!.doc!.notes.map((note) => note.kind)).toEqual(["voice"]);
  expect(drafts.addVoiceNote("4NMNnkMhL8jXrdJ9jamS58PAVdXu" as never, "audio-fedcba9876543210")).toBeNull();
});
