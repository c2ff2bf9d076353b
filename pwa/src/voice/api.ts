// The server's audio endpoints (see /api/audio in the README): declare a
// file, send it in pieces, ask how transcription is going, retry, delete.
// Same-origin requests, so the session cookie authenticates them.

import { call, UploadApiError, type Fetch } from "../uploads/http";

export type { Fetch } from "../uploads/http";
export { UploadApiError as VoiceApiError } from "../uploads/http";

export type ServerState = "uploading" | "queued" | "transcribing" | "done" | "failed" | "no-model";

export interface AudioStatus {
  audioId: string;
  received: number;
  size: number;
  state: ServerState;
  error?: string;
}

export interface Declaration {
  audioId: string;
  documentId: string;
  noteId: string;
  mimeType: string;
  size: number;
  sha256: string;
}

export class AudioApi {
  readonly #fetch: Fetch;
  readonly #base: string;

  constructor(fetchImpl: Fetch = (...args) => fetch(...args), base = "") {
    this.#fetch = fetchImpl;
    this.#base = base;
  }

  declare(declaration: Declaration): Promise<AudioStatus> {
    return this.#call("POST", "/api/audio", JSON.stringify(declaration), "application/json");
  }

  put(audioId: string, offset: number, bytes: Uint8Array): Promise<AudioStatus> {
    return this.#call("PUT", `${path(audioId)}?offset=${offset}`, bytes as Uint8Array<ArrayBuffer>, "application/octet-stream");
  }

  status(audioId: string): Promise<AudioStatus> {
    return this.#call("GET", path(audioId));
  }

  retry(audioId: string): Promise<AudioStatus> {
    return this.#call("POST", `${path(audioId)}/retry`);
  }

  async remove(audioId: string): Promise<void> {
    try {
      await this.#call("DELETE", path(audioId));
    } catch (error) {
      // Already gone is what we wanted.
      if (!(error instanceof UploadApiError && error.status === 404)) throw error;
    }
  }

  #call<T>(method: string, url: string, body?: BodyInit, contentType?: string): Promise<T> {
    return call<T>(this.#fetch, this.#base + url, method, body, contentType);
  }
}

function path(audioId: string): string {
  return `/api/audio/${encodeURIComponent(audioId)}`;
}

/** Where another device can play the recording from. */
export function audioFileUrl(audioId: string): string {
  return `${path(audioId)}/file`;
}
