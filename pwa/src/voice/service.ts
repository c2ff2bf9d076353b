// The voice notes of one user on this device: keeps each recording in a note,
// recovers recordings cut short by a crash or reload, uploads finished ones
// when there is signal (one at a time, retried with backoff), follows their
// transcription on the server, and deletes. The UI reads `status()` and
// subscribes; every decision here is made from the RecordingStore, so a
// restart carries on where the last run stopped.

import { oneServicePerUser } from "../uploads/local";
import { asDraftId, type DraftId } from "../sync/ids";
import type { DraftStore } from "../sync/drafts";
import { AudioApi, VoiceApiError, type AudioStatus } from "./api";
import { localStatus, type VoiceStatus } from "./status";
import { newAudioId, RecordingStore, voiceDatabaseName, type Recording, type UploadState } from "./store";
import { backoffDelay, upload } from "./uploader";

export type VoiceDrafts = Pick<DraftStore, "whenLoaded" | "addVoiceNote" | "flush">;

export interface VoiceEnvironment {
  online: () => boolean;
  /** Whether a recording is being made right now (by this or another tab). */
  isRecording: (audioId: string) => Promise<boolean>;
  random: () => number;
  now: () => number;
}

/** How often transcription progress is asked for while a job is on the server. */
export const POLL_MS = 5000;

const browserEnvironment: VoiceEnvironment = {
  online: () => navigator.onLine,
  isRecording: async (audioId) => {
    // Recorder holds a Web Lock named after the recording while it records.
    const held = (await navigator.locks?.query())?.held ?? [];
    return held.some((lock) => lock.name === recordingLockName(audioId));
  },
  random: Math.random,
  now: Date.now,
};

export function recordingLockName(audioId: string): string {
  return `fieldbook-recording-${audioId}`;
}

/** How many times an upload may find its draft missing on the server (it
 * syncs separately and may simply not be there yet) before it is shown as failed. */
const MAX_DRAFT_MISSING = 8;

const DRAFT_MISSING =
  "The draft this recording belongs to is not on the server. If the draft was deleted, delete the recording too; otherwise try again once the draft has synced.";

function describe(error: unknown): string {
  if (error instanceof VoiceApiError && error.status === 404) return DRAFT_MISSING;
  if (error instanceof VoiceApiError) return error.message;
  return "Something went wrong on this device while uploading.";
}

export class VoiceService {
  readonly store: RecordingStore;
  readonly #api: AudioApi;
  readonly #env: VoiceEnvironment;
  readonly #listeners = new Set<() => void>();
  readonly #recordings = new Map<string, Recording>();
  /** Upload progress (percent) of the recording being sent. */
  readonly #progress = new Map<string, number>();
  /** Uploads refused because the server does not have the note's draft yet. */
  readonly #draftMissing = new Map<string, number>();
  #drafts: VoiceDrafts | null = null;
  /** Recordings being put into a note, so two callers never add two notes. */
  readonly #attaching = new Set<string>();
  #pumping: Promise<void> | null = null;
  #attempt = 0;
  #retryAt = 0;
  #lastPoll = 0;
  /** Why the last pass stopped early, e.g. no signal; shown with "waiting". */
  lastError: string | null = null;

  constructor(store: RecordingStore, api: AudioApi = new AudioApi(), env: VoiceEnvironment = browserEnvironment) {
    this.store = store;
    this.#api = api;
    this.#env = env;
  }

  get api(): AudioApi {
    return this.#api;
  }

  /** Loads the recordings, recovering any a crash or reload cut short. */
  async start(): Promise<void> {
    for (const recording of await this.store.list()) {
      this.#recordings.set(recording.audioId, recording);
      if (recording.finishedAt === null && !(await this.#env.isRecording(recording.audioId))) await this.#recover(recording);
    }
    this.#emit();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  recordings(): Recording[] {
    return [...this.#recordings.values()].sort((a, b) => a.startedAt - b.startedAt);
  }

  recording(audioId: string): Recording | undefined {
    return this.#recordings.get(audioId);
  }

  /** The status of a recording held on this device, or null if it is not here. */
  status(audioId: string): VoiceStatus | null {
    const recording = this.#recordings.get(audioId);
    return recording ? localStatus(recording, this.#progress.get(audioId), this.#env.online()) : null;
  }

  /** Gives the service the drafts, so recordings get their notes. */
  async setDrafts(drafts: VoiceDrafts): Promise<void> {
    this.#drafts = drafts;
    for (const recording of this.recordings()) await this.#attach(recording);
  }

  // -- Recording (see recorder.ts) ---------------------------------------

  async begin(mimeType: string, targetDraft: string | null): Promise<Recording> {
    const recording: Recording = {
      audioId: newAudioId(),
      mimeType,
      startedAt: this.#env.now(),
      finishedAt: null,
      recovered: false,
      size: 0,
      targetDraft,
      draftId: null,
      noteId: null,
      upload: { state: "pending" },
    };
    await this.store.begin(recording);
    this.#set(recording);
    await this.#attach(recording);
    return this.#recordings.get(recording.audioId)!;
  }

  async append(audioId: string, seq: number, data: ArrayBuffer): Promise<void> {
    await this.store.append(audioId, seq, data);
    const recording = this.#recordings.get(audioId);
    if (recording) this.#set({ ...recording, size: recording.size + data.byteLength });
  }

  async finish(audioId: string): Promise<void> {
    const stored = await this.store.stored(audioId);
    await this.#update(audioId, (recording) => ({ ...recording, finishedAt: this.#env.now(), size: stored.size }));
    void this.pump();
  }

  // -- Upload and transcription ------------------------------------------

  /** Uploads what is waiting and deletes what was deleted, one at a time,
   * until done or the network fails (then again after a backoff). */
  pump(): Promise<void> {
    this.#pumping ??= this.#pump().finally(() => (this.#pumping = null));
    return this.#pumping;
  }

  /** Called periodically: pumps when a backoff has passed, and asks the
   * server how transcriptions are going. */
  async tick(): Promise<void> {
    if (!this.#env.online()) return;
    if (this.#env.now() >= this.#retryAt) await this.pump();
    if (this.#env.now() - this.#lastPoll >= POLL_MS) await this.poll();
  }

  /** Signal came back: try at once. */
  onOnline(): void {
    this.#attempt = 0;
    this.#retryAt = 0;
    void this.pump();
  }

  /** Asks the server about every recording it is transcribing. */
  async poll(): Promise<void> {
    this.#lastPoll = this.#env.now();
    const following = this.recordings().filter((r) => r.upload.state === "queued" || r.upload.state === "transcribing");
    for (const recording of following) {
      try {
        await this.#applyServer(recording.audioId, await this.#api.status(recording.audioId));
      } catch (error) {
        if (error instanceof VoiceApiError && error.transient) return;
        // Gone from the server (e.g. retention) or refused: nothing to follow.
      }
    }
  }

  async retry(audioId: string): Promise<void> {
    const recording = this.#recordings.get(audioId);
    if (!recording) return;
    const upload = recording.upload;
    if (upload.state === "failed" && upload.during === "upload") {
      this.#draftMissing.delete(audioId);
      await this.#update(audioId, (r) => ({ ...r, upload: { state: "pending" } }));
      this.onOnline();
      return;
    }
    await this.#applyServer(audioId, await this.#api.retry(audioId));
  }

  /** Deletes the recording here at once, and on the server when there is signal. */
  async remove(audioId: string): Promise<void> {
    const recording = this.#recordings.get(audioId);
    if (!recording || recording.finishedAt === null) return;
    await this.store.removeAudio(audioId, true);
    await this.#update(audioId, (r) => ({ ...r, upload: { state: "deleting" } }));
    void this.pump();
  }

  async #pump(): Promise<void> {
    for (const recording of this.recordings()) {
      if (!this.#env.online()) return;
      try {
        if (recording.upload.state === "deleting") {
          await this.#api.remove(recording.audioId);
          await this.store.removeAudio(recording.audioId, false);
          this.#recordings.delete(recording.audioId);
          this.#emit();
        } else if (this.#needsUpload(recording)) {
          await this.#upload(recording);
        }
        this.#attempt = 0;
        this.lastError = null;
      } catch (error) {
        this.#progress.delete(recording.audioId);
        if (error instanceof VoiceApiError && (error.transient || this.#draftNotSyncedYet(recording.audioId, error))) {
          this.#retryAt = this.#env.now() + backoffDelay(this.#attempt++, this.#env.random());
          this.lastError = error.status === 404 ? "Waiting for the draft to reach the server." : error.message;
          this.#emit();
          return;
        }
        await this.#update(recording.audioId, (r) => ({ ...r, upload: { state: "failed", reason: describe(error), during: "upload" } }));
      }
    }
  }

  /** A draft made offline reaches the server by sync, which may still be
   * under way when signal returns: a 404 is worth a few more tries. */
  #draftNotSyncedYet(audioId: string, error: VoiceApiError): boolean {
    if (error.status !== 404) return false;
    const times = (this.#draftMissing.get(audioId) ?? 0) + 1;
    this.#draftMissing.set(audioId, times);
    return times <= MAX_DRAFT_MISSING;
  }

  #needsUpload(recording: Recording): boolean {
    const state = recording.upload.state;
    return recording.finishedAt !== null && recording.noteId !== null && (state === "pending" || state === "uploading");
  }

  async #upload(recording: Recording): Promise<void> {
    const blob = await this.store.blob(recording.audioId, recording.mimeType);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    this.#progress.set(recording.audioId, 0);
    this.#emit();
    let saved = 0;
    const status = await upload(
      this.#api,
      { audioId: recording.audioId, documentId: recording.draftId!, noteId: recording.noteId!, mimeType: recording.mimeType, bytes },
      (received, size) => {
        this.#progress.set(recording.audioId, size ? Math.floor((received / size) * 100) : 100);
        // Remember how far it got now and then, so the status survives a reload.
        if (received - saved >= 4 * 1024 * 1024) {
          saved = received;
          void this.#update(recording.audioId, (r) => ({ ...r, upload: { state: "uploading", received } }));
        } else {
          this.#emit();
        }
      },
    );
    this.#progress.delete(recording.audioId);
    await this.#applyServer(recording.audioId, status);
  }

  async #applyServer(audioId: string, status: AudioStatus): Promise<void> {
    const upload: UploadState =
      status.state === "failed"
        ? { state: "failed", reason: status.error ?? "The server could not transcribe this recording.", during: "transcription" }
        : status.state === "uploading"
          ? { state: "uploading", received: status.received }
          : { state: status.state };
    await this.#update(audioId, (r) => (r.upload.state === "deleting" ? r : { ...r, upload }));
  }

  async #recover(recording: Recording): Promise<void> {
    const stored = await this.store.stored(recording.audioId);
    if (stored.chunks === 0 && recording.noteId === null) {
      // Stopped before a single second was saved, and never in a note.
      await this.store.removeAudio(recording.audioId, false);
      this.#recordings.delete(recording.audioId);
      return;
    }
    const upload: UploadState =
      stored.chunks === 0 ? { state: "failed", reason: "The recording stopped before any sound was saved.", during: "upload" } : recording.upload;
    await this.#update(recording.audioId, (r) => ({ ...r, finishedAt: this.#env.now(), recovered: true, size: stored.size, upload }));
  }

  /** Puts a recording into a note: in the draft it was made for if that is
   * on this device, else in a new draft. */
  async #attach(recording: Recording): Promise<void> {
    const drafts = this.#drafts;
    if (!drafts || recording.noteId !== null || recording.upload.state === "deleting") return;
    if (this.#attaching.has(recording.audioId)) return;
    this.#attaching.add(recording.audioId);
    try {
      await this.#place(drafts, recording);
    } finally {
      this.#attaching.delete(recording.audioId);
    }
  }

  async #place(drafts: VoiceDrafts, recording: Recording): Promise<void> {
    let placed: { id: DraftId; noteId: string } | null = null;
    if (recording.targetDraft && (await drafts.whenLoaded(asDraftId(recording.targetDraft)))) {
      placed = drafts.addVoiceNote(asDraftId(recording.targetDraft), recording.audioId);
    }
    placed ??= drafts.addVoiceNote(null, recording.audioId);
    if (!placed) return;
    const { id, noteId } = placed;
    await this.#update(recording.audioId, (r) => ({ ...r, draftId: id, noteId }));
    await drafts.flush();
    void this.pump();
  }

  async #update(audioId: string, edit: (recording: Recording) => Recording): Promise<void> {
    const next = await this.store.update(audioId, edit);
    if (next) this.#set(next);
  }

  #set(recording: Recording): void {
    this.#recordings.set(recording.audioId, recording);
    this.#emit();
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

/** The one VoiceService of this user in this page, started on first use:
 * recovers recordings, then keeps uploads and transcription status moving. */
export const voiceService = oneServicePerUser(async (userId) => new VoiceService(await RecordingStore.open(voiceDatabaseName(userId))));
