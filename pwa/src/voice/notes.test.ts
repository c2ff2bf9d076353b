import { afterEach, expect, test } from "vitest";
import { Repo } from "@automerge/automerge-repo/slim";
import { DraftStore } from "../sync/drafts";
import type { RootDoc } from "../sync/schema";

const repos: Repo[] = [];

afterEach(async () => {
  await Promise.all(repos.splice(0).map((repo) => repo.shutdown()));
});

function store(): DraftStore {
  const repo = new Repo({ network: [] });
  repos.push(repo);
  const root = repo.create<RootDoc>({ type: "fieldbook/root", schemaVersion: 1, entries: {}, settings: {} });
  return new DraftStore(repo, root, "Phone");
}

test("addVoiceNote puts a voice note (as the contract shapes it) into a draft, once per recording", () => {
  const drafts = store();
  const { id } = drafts.create("Typed first");
  const placed = drafts.addVoiceNote(id, "audio-0123456789abcdef")!;
  expect(drafts.addVoiceNote(id, "audio-0123456789abcdef")).toEqual(placed);
  const notes = drafts.get(id)!.doc!.notes;
  expect(notes).toHaveLength(2);
  expect(notes[1]).toMatchObject({ id: placed.noteId, device: "Phone", kind: "voice", text: "", audio: "audio-0123456789abcdef", transcript: null });
});

test("addVoiceNote with no draft starts one whose first note is the voice note; an unknown draft gives null", () => {
  const drafts = store();
  const placed = drafts.addVoiceNote(null, "audio-fedcba9876543210")!;
  expect(drafts.list().map((draft) => draft.id)).toEqual([placed.id]);
  expect(drafts.get(placed.id)!.doc!.notes.map((note) => note.kind)).toEqual(["voice"]);
  expect(drafts.addVoiceNote("4NMNnkMhL8jXrdJ9jamS58PAVdXu" as never, "audio-fedcba9876543210")).toBeNull();
});
