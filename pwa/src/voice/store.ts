// Recordings on this device, in their own IndexedDB database (one per user),
// apart from Automerge's: the audio is written a chunk at a time as
// MediaRecorder hands it over (about once a second), so a crash or a reload
// mid-recording keeps everything but the last second. A recording's metadata
// also remembers which note it belongs to and how far its upload got, so the
// upload resumes after a restart.

import { done, newUploadId, request } from "../uploads/local";

/** Where a recording's upload and transcription stand, as this device knows it. */
export type UploadState =
  /** Recorded, not yet on the server (no signal, or not tried yet). */
  | { state: "pending" }
  | { state: "uploading"; received: number }
  /** The server's own states once the whole file is there. */
  | { state: "queued" | "transcribing" | "done" | "no-model" }
  /** Upload refused, or transcription failed on the server; `reason` is for the user. */
  | { state: "failed"; reason: string; during: "upload" | "transcription" }
  /** The user deleted the recording; the server's copy goes when there is signal. */
  | { state: "deleting" };

export interface Recording {
  audioId: string;
  mimeType: string;
  startedAt: number;
  /** Null while recording (or when recording stopped by a crash, until recovered). */
  finishedAt: number | null;
  /** True when the recording was cut short by a crash or reload and recovered. */
  recovered: boolean;
  /** Bytes stored so far. */
  size: number;
  /** The draft the note should go into (null: a new draft). */
  targetDraft: string | null;
  /** The note holding this recording, once it is in a draft. */
  draftId: string | null;
  noteId: string | null;
  upload: UploadState;
}

interface Chunk {
  audioId: string;
  seq: number;
  data: ArrayBuffer;
}

const RECORDINGS = "recordings";
const CHUNKS = "chunks";

export function voiceDatabaseName(userId: string): string {
  return `fieldbook-voice-${userId}`;
}

/** A random id for a recording: 22 characters of [A-Za-z0-9_-] (the contract allows 16–64). */
export function newAudioId(): string {
  return newUploadId();
}

export class RecordingStore {
  readonly #db: IDBDatabase;

  private constructor(db: IDBDatabase) {
    this.#db = db;
  }

  static async open(name: string): Promise<RecordingStore> {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore(RECORDINGS, { keyPath: "audioId" });
      db.createObjectStore(CHUNKS, { keyPath: ["audioId", "seq"] });
    };
    return new RecordingStore(await request(req));
  }

  close(): void {
    this.#db.close();
  }

  /** Records that a recording has started, before its first chunk arrives. */
  async begin(recording: Recording): Promise<void> {
    const tx = this.#db.transaction(RECORDINGS, "readwrite");
    tx.objectStore(RECORDINGS).put(recording);
    await done(tx);
  }

  /** Stores chunk `seq` (0, 1, 2, …) of a recording, and its new size, in one transaction. */
  async append(audioId: string, seq: number, data: ArrayBuffer): Promise<void> {
    const tx = this.#db.transaction([RECORDINGS, CHUNKS], "readwrite");
    tx.objectStore(CHUNKS).put({ audioId, seq, data } satisfies Chunk);
    const recordings = tx.objectStore(RECORDINGS);
    const recording = await request(recordings.get(audioId) as IDBRequest<Recording | undefined>);
    if (recording) recordings.put({ ...recording, size: recording.size + data.byteLength });
    await done(tx);
  }

  async get(audioId: string): Promise<Recording | undefined> {
    const tx = this.#db.transaction(RECORDINGS, "readonly");
    return request(tx.objectStore(RECORDINGS).get(audioId) as IDBRequest<Recording | undefined>);
  }

  async list(): Promise<Recording[]> {
    const tx = this.#db.transaction(RECORDINGS, "readonly");
    const all = await request(tx.objectStore(RECORDINGS).getAll() as IDBRequest<Recording[]>);
    return all.sort((a, b) => a.startedAt - b.startedAt);
  }

  /** Changes a recording's metadata; returns the new value (undefined if it is gone). */
  async update(audioId: string, edit: (recording: Recording) => Recording): Promise<Recording | undefined> {
    const tx = this.#db.transaction(RECORDINGS, "readwrite");
    const recordings = tx.objectStore(RECORDINGS);
    const current = await request(recordings.get(audioId) as IDBRequest<Recording | undefined>);
    const next = current ? edit(current) : undefined;
    if (next) recordings.put(next);
    await done(tx);
    return next;
  }

  /** The recording's bytes so far, in order, as one file. */
  async blob(audioId: string, mimeType: string): Promise<Blob> {
    const tx = this.#db.transaction(CHUNKS, "readonly");
    const range = IDBKeyRange.bound([audioId, 0], [audioId, Infinity]);
    const chunks = await request(tx.objectStore(CHUNKS).getAll(range) as IDBRequest<Chunk[]>);
    return new Blob(
      chunks.map((chunk) => chunk.data),
      { type: mimeType },
    );
  }

  /** Bytes and chunk count actually stored, whatever the metadata says. */
  async stored(audioId: string): Promise<{ size: number; chunks: number }> {
    const blob = await this.blob(audioId, "");
    const tx = this.#db.transaction(CHUNKS, "readonly");
    const range = IDBKeyRange.bound([audioId, 0], [audioId, Infinity]);
    const chunks = await request(tx.objectStore(CHUNKS).count(range));
    return { size: blob.size, chunks };
  }

  /** Removes the audio, keeping (if `keepMetadata`) the record, e.g. as a
   * tombstone until the server's copy is deleted. */
  async removeAudio(audioId: string, keepMetadata: boolean): Promise<void> {
    const tx = this.#db.transaction([RECORDINGS, CHUNKS], "readwrite");
    tx.objectStore(CHUNKS).delete(IDBKeyRange.bound([audioId, 0], [audioId, Infinity]));
    if (!keepMetadata) tx.objectStore(RECORDINGS).delete(audioId);
    await done(tx);
  }
}
