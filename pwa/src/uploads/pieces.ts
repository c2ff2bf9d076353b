// Sends one file to the server, the contract's way (voice recordings and
// evidence alike): declare it (size and SHA-256), then PUT pieces of at
// most 1 MiB from wherever the server says it is. Safe to run again at any
// point: declaring is idempotent, a 409 `wrong_offset` tells us where to
// resume, and a 422 `hash_mismatch` (the server threw the bytes away)
// starts again from 0. Retrying with backoff is the caller's job (see
// `backoffDelay`), so this stays one pass that either finishes, or throws
// an UploadApiError saying whether to try again.

import { UploadApiError } from "./http";

/** The contract's largest PUT body. */
export const PIECE_BYTES = 1024 * 1024;
/** Starting again from 0 this many times in one pass means something is wrong with the file. */
const MAX_RESTARTS = 2;

/** What the server answers about a file: how much it has, and whether it still takes bytes. */
export interface PieceStatus {
  received: number;
  state: string;
}

/** One file's two calls. */
export interface PieceTarget<S extends PieceStatus> {
  declare(size: number, sha256: string): Promise<S>;
  put(offset: number, piece: Uint8Array): Promise<S>;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Uploads `bytes`; `onProgress` gets the bytes the server holds. Resolves
 * with the server's status once it has the whole file. */
export async function uploadPieces<S extends PieceStatus>(target: PieceTarget<S>, bytes: Uint8Array, onProgress: (received: number, size: number) => void): Promise<S> {
  const size = bytes.byteLength;
  let status = await target.declare(size, await sha256Hex(bytes));
  let offset = status.received;
  let restarts = 0;
  onProgress(offset, size);
  while (status.state === "uploading" && offset < size) {
    const piece = bytes.subarray(offset, Math.min(offset + PIECE_BYTES, size));
    try {
      status = await target.put(offset, piece);
      offset = status.received;
    } catch (error) {
      if (!(error instanceof UploadApiError)) throw error;
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
