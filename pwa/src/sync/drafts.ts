// The user's drafts as Automerge documents: the root document lists them,
// each draft is its own entry document. Every change is made locally and
// saved to this device at once; syncing happens behind it.

import { updateText, type Doc } from "@automerge/automerge/slim";
import type { DocHandle, Repo } from "@automerge/automerge-repo/slim";
import type { DraftId } from "./ids";
import { authorMessage, concurrentEdits, entryMerges, NO_MERGES, recordMarks, type ChoiceField, type EntryMerges } from "./merges";
import { newDraft, newNote, type EntryDoc, type EntryStatus, type Evidence, type Note, type PeerReflection, type RootDoc } from "./schema";

/** The entry's fields that hold long, mergeable text. */
export type EntryTextField = "title" | "description" | "learning" | "impact" | "peerReflection.text";

/** One draft as the UI sees it: `doc` is null until the document is on this device. */
export interface DraftRecord {
  id: DraftId;
  addedAt: number;
  doc: EntryDoc | null;
}

/** What the UI needs to undo a deletion. */
export interface Removed {
  id: DraftId;
  addedAt: number;
}

/** The account's own details, printed on the PDF portfolio's cover. */
export interface Profile {
  name: string;
  /** Normalised ("SW123456"): see account/registration-number.ts. */
  registrationNumber: string;
}

// One flat key each, like the renewal ticks: an edit on one device replaces only its own value.
const PROFILE_KEYS: Record<keyof Profile, string> = { name: "profile/name", registrationNumber: "profile/sweRegistrationNumber" };

type Listener = () => void;

export class DraftStore {
  readonly #repo: Repo;
  readonly #root: DocHandle<RootDoc>;
  readonly #device: string;
  readonly #deviceId: string;
  /** Every change this device makes says which device made it (see merges.ts). */
  readonly #message: string;
  readonly #merges = new WeakMap<Doc<EntryDoc>, EntryMerges>();
  readonly #handles = new Map<DraftId, DocHandle<EntryDoc>>();
  readonly #loading = new Map<DraftId, Promise<void>>();
  readonly #listeners = new Set<Listener>();
  /** Drafts this device removed from the list but may still bring back (undo). */
  readonly #removedHere = new Set<DraftId>();
  #snapshot: DraftRecord[] = [];

  /** `device` is this device's name, `deviceId` its id on the server (the name if not given). */
  constructor(repo: Repo, root: DocHandle<RootDoc>, device: string, deviceId = device) {
    this.#repo = repo;
    this.#root = root;
    this.#device = device;
    this.#deviceId = deviceId;
    this.#message = authorMessage({ deviceId, device });
    root.on("change", () => this.#syncWithRoot());
    root.on("remote-heads", () => this.#emit());
    this.#syncWithRoot();
  }

  /** Every draft, newest change first. */
  list(): DraftRecord[] {
    return this.#snapshot;
  }

  get(id: DraftId): DraftRecord | undefined {
    return this.#snapshot.find((draft) => draft.id === id);
  }

  get rootId(): DraftId {
    return this.#root.documentId;
  }

  /** Every handle whose sync state matters: the root and each draft. */
  handles(): DocHandle<unknown>[] {
    return [this.#root, ...this.#handles.values()];
  }

  /** Resolves once a listed draft has been read from this device's storage:
   * true if its content is here, false if it is not (yet) on this device. */
  async whenLoaded(id: DraftId): Promise<boolean> {
    await this.#loading.get(id);
    return this.#handles.get(id)?.isReady() ?? false;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts a new draft holding one note; returns its id and the note's id. */
  create(text: string): { id: DraftId; noteId: string } {
    const now = Date.now();
    const note = newNote(randomId(), this.#device, text, now);
    const id = this.#list(newDraft(note), now);
    return { id, noteId: note.id };
  }

  /** Adds an entry from an export file as a new document; returns its id. */
  importEntry(entry: EntryDoc): DraftId {
    return this.#list(structuredClone(entry), Date.now());
  }

  /** Adds a note (empty unless `text` is given) to a draft; returns its id. */
  addNote(id: DraftId, text = ""): string {
    const note = newNote(randomId(), this.#device, text, Date.now());
    this.#change(id, (doc) => {
      doc.notes.push(note);
    });
    return note.id;
  }

  /** Adds a voice note whose audio (`audioId`) was recorded on this device
   * (see voice/), to a draft or, with `id` null, to a new draft. Idempotent:
   * a draft that already has a note for `audioId` keeps it. Null if the draft
   * is not on this device. */
  addVoiceNote(id: DraftId | null, audioId: string): { id: DraftId; noteId: string } | null {
    const now = Date.now();
    const note: Note = { ...newNote(randomId(), this.#device, "", now), kind: "voice", audio: audioId };
    if (id === null) {
      return { id: this.#list(newDraft(note), now), noteId: note.id };
    }
    const handle = this.#handles.get(id);
    if (!handle?.isReady()) return null;
    const existing = handle.doc()?.notes.find((known) => known.audio === audioId);
    if (existing) return { id, noteId: existing.id };
    this.#change(id, (doc) => {
      doc.notes.push(note);
    });
    return { id, noteId: note.id };
  }

  /** Sets a note's text; only the characters that differ are changed, so
   * edits from another device to other parts of the note are kept. */
  setNoteText(id: DraftId, noteId: string, text: string): void {
    this.#change(id, (doc) => {
      const index = doc.notes.findIndex((note) => note.id === noteId);
      if (index >= 0) updateText(doc, ["notes", index, "text"], text);
    });
  }

  /** Sets one of the entry's long text fields, changing only what differs. */
  setText(id: DraftId, field: EntryTextField, value: string): void {
    this.#change(id, (doc) => {
      if (field === "peerReflection.text") {
        doc.peerReflection ??= { peerRole: "", discussedOn: null, text: "" };
        updateText(doc, ["peerReflection", "text"], value);
      } else if (typeof doc[field] === "string") {
        updateText(doc, [field], value);
      } else {
        doc[field] = value;
      }
    });
  }

  /** Adds a paragraph at the end of a long text field, unless the field
   * already has it as a paragraph: clicking Insert again before the screen
   * showed the first click adds nothing. Reads the draft as it is now, not as
   * last shown. Returns whether the paragraph was added. */
  appendParagraph(id: DraftId, field: EntryTextField, paragraph: string): boolean {
    const doc = this.#handles.get(id)?.doc();
    if (!doc) return false;
    const current = (field === "peerReflection.text" ? doc.peerReflection?.text : doc[field]) ?? "";
    if (paragraphsOf(current).includes(paragraph.trim())) return false;
    this.setText(id, field, withParagraph(current, paragraph));
    return true;
  }

  /** Sets short fields that are replaced whole (a choice, a date). */
  setFields(id: DraftId, fields: Partial<Pick<EntryDoc, "activityType" | "activityDate">>): void {
    this.#change(id, (doc) => {
      if ("activityType" in fields) doc.activityType = fields.activityType ?? null;
      if ("activityDate" in fields) doc.activityDate = fields.activityDate ?? null;
    });
  }

  /** Updates the peer reflection (creating it), or removes it with `null`. */
  setPeerReflection(id: DraftId, fields: Partial<Pick<PeerReflection, "peerRole" | "discussedOn">> | null): void {
    this.#change(id, (doc) => {
      if (fields === null) {
        doc.peerReflection = null;
        return;
      }
      doc.peerReflection ??= { peerRole: "", discussedOn: null, text: "" };
      if ("peerRole" in fields) doc.peerReflection.peerRole = fields.peerRole ?? "";
      if ("discussedOn" in fields) doc.peerReflection.discussedOn = fields.discussedOn ?? null;
    });
  }

  setStatus(id: DraftId, status: EntryStatus, recordedOnSweAt: number | null = null): void {
    this.#change(id, (doc) => {
      doc.status = status;
      doc.recordedOnSweAt = status === "recorded" ? recordedOnSweAt : null;
    });
  }

  /** Adds or removes a tag in one of the entry's tag lists. */
  setTag(id: DraftId, list: "standards" | "pcf" | "tags", tag: string, on: boolean): void {
    this.#change(id, (doc) => {
      doc[list] ??= [];
      const index = doc[list].indexOf(tag);
      if (on && index < 0) doc[list].push(tag);
      if (!on && index >= 0) doc[list].splice(index, 1);
    });
  }

  /** Lists a file attached as evidence (see evidence/); idempotent. */
  addEvidence(id: DraftId, item: Evidence): void {
    this.#change(id, (doc) => {
      doc.evidence ??= [];
      if (!doc.evidence.some((known) => known.id === item.id)) doc.evidence.push({ ...item });
    });
  }

  removeEvidence(id: DraftId, evidenceId: string): void {
    this.#change(id, (doc) => {
      const index = (doc.evidence ?? []).findIndex((known) => known.id === evidenceId);
      if (index >= 0) doc.evidence!.splice(index, 1);
    });
  }

  /** The entry's fields changed on two devices while apart, and choices made
   * differently on each (see merges.ts). */
  merges(id: DraftId): EntryMerges {
    const handle = this.#handles.get(id);
    const doc = handle?.isReady() ? handle.doc() : undefined;
    if (!doc) return NO_MERGES;
    let merges = this.#merges.get(doc);
    if (!merges) {
      merges = entryMerges(doc, this.#deviceId);
      this.#merges.set(doc, merges);
    }
    return merges;
  }

  /** Clears a field's merge mark on every device: the merged text stands. */
  dismissMerge(id: DraftId, field: EntryTextField): void {
    this.#changeQuietly(id, (doc) => {
      if (doc.mergeMarks?.[field]) delete doc.mergeMarks[field];
    });
  }

  /** Puts one side's version of a marked field back, and clears the mark. */
  useVersion(id: DraftId, field: EntryTextField, text: string): void {
    this.setText(id, field, text);
    this.dismissMerge(id, field);
  }

  /** Settles a choice made differently on two devices: writing the value
   * replaces both, on every device. */
  choose(id: DraftId, field: ChoiceField, value: string | null): void {
    if (field === "activityType" || field === "activityDate") this.setFields(id, { [field]: value });
    else if (field === "peerReflection.peerRole") this.setPeerReflection(id, { peerRole: value ?? "" });
    else this.setPeerReflection(id, { discussedOn: value });
  }

  /** Remembers that the user kept a flagged detail ("kind:text"). */
  dismissFlag(id: DraftId, key: string): void {
    this.#change(id, (doc) => {
      doc.dismissedFlags ??= [];
      if (!doc.dismissedFlags.includes(key)) doc.dismissedFlags.push(key);
    });
  }

  /** The renewal checklist's ticks for one registration year. */
  renewal(year: string): Record<string, boolean> {
    const prefix = `renewal/${year}/`;
    const ticks: Record<string, boolean> = {};
    for (const [key, value] of Object.entries(this.#root.doc().settings ?? {})) {
      if (key.startsWith(prefix) && typeof value === "boolean") ticks[key.slice(prefix.length)] = value;
    }
    return ticks;
  }

  setRenewal(year: string, item: string, done: boolean): void {
    // One flat key per tick: maps created on two devices at once would
    // conflict as wholes, and one device's ticks would be lost.
    this.#root.change((root) => {
      root.settings ??= {};
      root.settings[`renewal/${year}/${item}`] = done;
    });
  }

  /** Whose CPD it is, for the PDF's cover: "" for what is not set. */
  profile(): Profile {
    const settings = this.#root.doc()?.settings ?? {};
    const text = (key: string) => {
      const value = settings[key];
      return typeof value === "string" ? value : "";
    };
    return { name: text(PROFILE_KEYS.name), registrationNumber: text(PROFILE_KEYS.registrationNumber) };
  }

  /** Keeps the profile in the root document, so it reaches every device and nothing else. An empty value removes its key. */
  setProfile(profile: Profile): void {
    const current = this.profile();
    this.#root.change((root) => {
      root.settings ??= {};
      for (const field of ["name", "registrationNumber"] as const) {
        const value = profile[field].trim();
        if (value === current[field]) continue;
        if (value) root.settings[PROFILE_KEYS[field]] = value;
        else delete root.settings[PROFILE_KEYS[field]];
      }
    });
  }

  /** Takes a draft off the list on every device. Its data stays until
   * `purge`, so `restore` can bring it back. */
  remove(id: DraftId): Removed | null {
    const entry = this.#root.doc()?.entries[id];
    if (!entry) return null;
    this.#removedHere.add(id);
    this.#root.change((root) => {
      delete root.entries[id];
    });
    return { id, addedAt: entry.addedAt };
  }

  restore(removed: Removed): void {
    this.#removedHere.delete(removed.id);
    this.#root.change((root) => {
      root.entries[removed.id] = { addedAt: removed.addedAt };
    });
  }

  /** Drops this device's copy of a removed draft (after the server deleted it). */
  purge(id: DraftId): void {
    this.#removedHere.delete(id);
    this.#forget(id);
  }

  /** Writes every pending change to this device's storage. */
  flush(): Promise<void> {
    return this.#repo.flush();
  }

  /** Makes a new entry document and lists it in the root. The entry's own
   * write to this device's storage starts first: IndexedDB commits
   * transactions on one store in the order they began, so the root never
   * lists an entry that is not on the device. (Automerge-repo would write
   * the new document only after its save delay, the root's at once; a page
   * closed in between left an entry listed that this device did not have.) */
  #list(initial: EntryDoc, addedAt: number): DraftId {
    const handle = this.#repo.create<EntryDoc>(initial);
    void this.#repo.flush([handle.documentId]);
    this.#watch(handle);
    this.#root.change((root) => {
      root.entries[handle.documentId] = { addedAt };
    });
    return handle.documentId;
  }

  #change(id: DraftId, edit: (doc: EntryDoc) => void): void {
    this.#changeQuietly(id, (doc) => {
      edit(doc);
      doc.updatedAt = Date.now();
    });
  }

  /** A change that is not the user's writing, so leaves `updatedAt` alone. */
  #changeQuietly(id: DraftId, edit: (doc: EntryDoc) => void): void {
    const handle = this.#handles.get(id);
    if (!handle || !handle.isReady()) return;
    handle.change(edit, { message: this.#message });
  }

  #syncWithRoot(): void {
    const entries = this.#root.doc()?.entries ?? {};
    for (const id of Object.keys(entries) as DraftId[]) {
      if (!this.#handles.has(id) && !this.#loading.has(id)) {
        const loading = this.#load(id).finally(() => this.#loading.delete(id));
        this.#loading.set(id, loading);
      }
    }
    for (const id of this.#handles.keys()) {
      // Removed on another device: drop our copy too. One removed here is
      // kept until the undo window has passed.
      if (!(id in entries) && !this.#removedHere.has(id)) this.#forget(id);
    }
    this.#refresh();
  }

  async #load(id: DraftId): Promise<void> {
    // `unavailable` is fine: the draft was made on another device and has not
    // reached this one yet. Its handle turns ready when the data arrives.
    let handle: DocHandle<EntryDoc>;
    try {
      handle = await this.#repo.find<EntryDoc>(id, { allowableStates: ["ready", "unavailable"] });
    } catch {
      return; // Deleted, or not a valid document: nothing to show.
    }
    if (!(id in (this.#root.doc()?.entries ?? {})) && !this.#removedHere.has(id)) return;
    this.#watch(handle);
    this.#refresh();
  }

  #watch(handle: DocHandle<EntryDoc>): void {
    if (this.#handles.has(handle.documentId)) return;
    this.#handles.set(handle.documentId, handle);
    handle.on("change", ({ patchInfo }) => {
      this.#markMerges(handle, patchInfo.before, patchInfo.after);
      this.#refresh();
    });
    handle.on("remote-heads", () => this.#emit());
  }

  /** Records text fields that a merge brought changes to from both sides. */
  #markMerges(handle: DocHandle<EntryDoc>, before: Doc<EntryDoc>, after: Doc<EntryDoc>): void {
    const marks = concurrentEdits(before, after);
    if (Object.keys(marks).length === 0) return;
    // Not inside the handle's own update, which is still emitting this change.
    queueMicrotask(() => {
      if (handle.isReady()) handle.change((doc) => recordMarks(doc, marks), { message: this.#message });
    });
  }

  #forget(id: DraftId): void {
    this.#handles.get(id)?.removeAllListeners();
    this.#handles.delete(id);
    this.#repo.delete(id);
    this.#refresh();
  }

  #refresh(): void {
    const entries = this.#root.doc()?.entries ?? {};
    const records: DraftRecord[] = [];
    for (const [id, { addedAt }] of Object.entries(entries)) {
      const handle = this.#handles.get(id as DraftId);
      const doc = handle?.isReady() ? (handle.doc() ?? null) : null;
      records.push({ id: id as DraftId, addedAt, doc });
    }
    const changedAt = (record: DraftRecord) => record.doc?.updatedAt ?? record.addedAt;
    records.sort((a, b) => changedAt(b) - changedAt(a));
    this.#snapshot = records;
    this.#emit();
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

/** Appends `addition` to a field's text as a new paragraph. */
export function withParagraph(current: string, addition: string): string {
  const trimmed = current.replace(/\s+$/, "");
  return trimmed ? `${trimmed}\n\n${addition}` : addition;
}

function paragraphsOf(text: string): string[] {
  return text.split(/\n\s*\n/).map((paragraph) => paragraph.trim());
}

function randomId(): string {
  return crypto.randomUUID();
}
