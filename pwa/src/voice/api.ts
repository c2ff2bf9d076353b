// The server's audio endpoints (see /api/audio in the README): declare a
// file, send it in pieces, ask how transcription is going, retry, delete.
// Same-origin requests, so the session cookie authenticates them.

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

/** A refusal or failure; `status` 0 means no answer at all (no signal). */
export class VoiceApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For `wrong_offset`: the bytes the server already has. */
    readonly received?: number,
  ) {
    super(message);
  }

  /** Worth trying again later, unchanged: no signal, the server busy or
   * restarting, or the session needing a new sign-in. */
  get transient(): boolean {
    return this.status === 0 || this.status === 401 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export type Fetch = typeof fetch;

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
      if (!(error instanceof VoiceApiError && error.status === 404)) throw error;
    }
  }

  async #call<T>(method: string, url: string, body?: BodyInit, contentType?: string): Promise<T> {
    let response: Response;
    try {
      response = await this.#fetch(this.#base + url, {
        method,
        credentials: "same-origin",
        headers: contentType ? { "content-type": contentType } : {},
        body,
      });
    } catch {
      throw new VoiceApiError(0, "offline", "No connection to the Fieldbook server.");
    }
    if (response.ok) return (response.status === 204 ? undefined : await response.json()) as T;
    type ErrorBody = { error?: { code?: string; message?: string; received?: number }; received?: number };
    const answer = (await response.json().catch(() => null)) as ErrorBody | null;
    // `received` (for wrong_offset) beside the error, or inside it.
    const received = answer?.received ?? answer?.error?.received;
    throw new VoiceApiError(
      response.status,
      answer?.error?.code ?? "http_" + response.status,
      answer?.error?.message ?? `The server answered ${response.status}.`,
      typeof received === "number" ? received : undefined,
    );
  }
}

function path(audioId: string): string {
  return `/api/audio/${encodeURIComponent(audioId)}`;
}

/** Where another device can play the recording from. */
export function audioFileUrl(audioId: string): string {
  return `${path(audioId)}/file`;
}
