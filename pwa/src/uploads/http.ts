// The requests every upload API (voice recordings, evidence) makes to the
// server: same-origin, so the session cookie authenticates them, and every
// refusal turned into an UploadApiError carrying the contract's code.

/** A refusal or failure; `status` 0 means no answer at all (no signal). */
export class UploadApiError extends Error {
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

/** One request; resolves with the JSON answer (undefined for 204). */
export async function call<T>(fetchImpl: Fetch, url: string, method: string, body?: BodyInit, contentType?: string): Promise<T> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method,
      credentials: "same-origin",
      headers: contentType ? { "content-type": contentType } : {},
      body,
    });
  } catch {
    throw new UploadApiError(0, "offline", "No connection to the Fieldbook server.");
  }
  if (response.ok) return (response.status === 204 ? undefined : await response.json()) as T;
  type ErrorBody = { error?: { code?: string; message?: string; received?: number }; received?: number };
  const answer = (await response.json().catch(() => null)) as ErrorBody | null;
  // `received` (for wrong_offset) beside the error, or inside it.
  const received = answer?.received ?? answer?.error?.received;
  throw new UploadApiError(
    response.status,
    answer?.error?.code ?? "http_" + response.status,
    answer?.error?.message ?? `The server answered ${response.status}.`,
    typeof received === "number" ? received : undefined,
  );
}
