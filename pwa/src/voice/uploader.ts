// Sends one recording to the server, the contract's way: declare it (size and
// SHA-256), then PUT pieces of at most 1 MiB from wherever the server says it
// is. Safe to run again at any point: declaring is idempotent, a 409
// `wrong_offset` tells us where to resume, and a 422 `hash_mismatch` (the
// server threw the bytes away) starts again from 0. Retrying with backoff is
// the caller's job (see `backoffDelay`), so this stays one pass that either
// finishes, or throws a VoiceApiError saying whether to try again.

import { VoiceApiError, type AudioApi, type AudioStatus } from "./api";

/** The contract's largest PUT body. */
export const PIECE_BYTES = 1024 * 1024;
/** Starting again from 0 this many times in one pass means something is wrong with the file. */
const MAX_RESTARTS = 2;

export interface UploadJob {
  audioId: string;
  documentId: string;
  noteId: string;
  mimeType: string;
  bytes: Uint8Array;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Uploads `job`; `onProgress` gets the bytes the server holds. Resolves with
 * the server's status once it has the whole file (state queued, no-model, or
 * further along if it already had it). */
export async function upload(api: AudioApi, job: UploadJob, onProgress: (received: number, size: number) => void): Promise<AudioStatus> {
  const size = job.bytes.byteLength;
  const declared = await api.declare({
    audioId: job.audioId,
    documentId: job.documentId,
    noteId: job.noteId,
    mimeType: job.mimeType,
    size,
    sha256: await sha256Hex(job.bytes),
  });
  let status = declared;
  let offset = declared.received;
  let restarts = 0;
  onProgress(offset, size);
  while (status.state === "uploading" && offset < size) {
    const piece = job.bytes.subarray(offset, Math.min(offset + PIECE_BYTES, size));
    try {
      status = await api.put(job.audioId, offset, piece);
      offset = status.received;
    } catch (error) {
      if (!(error instanceof VoiceApiError)) throw error;
      if (error.code === "wrong_offset" && error.received !== undefined) {
        // Another pass (or a request we never saw answered) got further, or
        // the server lost bytes: carry on from what it has.
        offset = error.received;
      } else if (error.code === "hash_mismatch" && restarts < MAX_RESTARTS) {
        restarts++;
        offset = 0;
      } else {
        throw error;
      }
    }
    onProgress(offset, size);
  }
  return status;
}

/** Exponential backoff with full jitter: a random delay up to 1 s, 2 s, 4 s,
 * … capped at 5 minutes, so many phones regaining signal at once do not
 * all retry together. `random` is in [0, 1). */
export function backoffDelay(attempt: number, random: number = Math.random(), baseMs = 1000, capMs = 5 * 60_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(random * ceiling);
}
