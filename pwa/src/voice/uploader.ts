// Sends one recording to the server through the shared resumable uploader
// (uploads/pieces.ts): a recording is declared with the note it belongs to.

import type { AudioApi, AudioStatus } from "./api";
import { uploadPieces } from "../uploads/pieces";

export { backoffDelay, PIECE_BYTES, sha256Hex } from "../uploads/pieces";

export interface UploadJob {
  audioId: string;
  documentId: string;
  noteId: string;
  mimeType: string;
  bytes: Uint8Array;
}

/** Uploads `job`; `onProgress` gets the bytes the server holds. Resolves with
 * the server's status once it has the whole file (state queued, no-model, or
 * further along if it already had it). */
export function upload(api: AudioApi, job: UploadJob, onProgress: (received: number, size: number) => void): Promise<AudioStatus> {
  const { audioId, documentId, noteId, mimeType } = job;
  return uploadPieces<AudioStatus>(
    {
      declare: (size, sha256) => api.declare({ audioId, documentId, noteId, mimeType, size, sha256 }),
      put: (offset, piece) => api.put(audioId, offset, piece),
    },
    job.bytes,
    onProgress,
  );
}
