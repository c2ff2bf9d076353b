// For unit tests: the voice contract's server side in memory, behind a
// `fetch`, with switches for the failures the uploader must survive. The
// real server is exercised by the browser test (e2e/voice.test.mjs).

import type { AudioStatus, Declaration, ServerState } from "./api";
import type { Recording } from "./store";
import { sha256Hex } from "./uploader";

interface Stored {
  declaration: Declaration;
  bytes: Uint8Array;
  state: ServerState;
  error?: string;
}

export class FakeAudioServer {
  readonly files = new Map<string, Stored>();
  readonly requests: string[] = [];
  /** Requests to fail as if there were no signal. */
  dropNext = 0;
  /** Corrupt the next completed file once (the server then answers 422). */
  corruptNext = 0;
  /** Forget this many bytes of the next PUT (as if the server lost them). */
  loseBytesOnce = 0;
  /** Answer with this status and error to the next request. */
  refuseNext: { status: number; code: string; message: string } | null = null;

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), "http://fieldbook.test");
    const method = init?.method ?? "GET";
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    if (this.dropNext > 0) {
      this.dropNext--;
      throw new TypeError("Failed to fetch");
    }
    if (this.refuseNext) {
      const { status, code, message } = this.refuseNext;
      this.refuseNext = null;
      return json(status, { error: { code, message } });
    }
    const [, , , audioId, action] = url.pathname.split("/");
    if (method === "POST" && url.pathname === "/api/audio") return this.#declare(JSON.parse(String(init?.body)) as Declaration);
    const file = audioId ? this.files.get(decodeURIComponent(audioId)) : undefined;
    if (!file) return json(404, { error: { code: "not_found", message: "No such recording." } });
    if (method === "PUT") return this.#put(file, Number(url.searchParams.get("offset")), init?.body as Uint8Array);
    if (method === "GET" && !action) return json(200, status(file));
    if (method === "POST" && action === "retry") {
      file.state = "queued";
      delete file.error;
      return json(200, status(file));
    }
    if (method === "DELETE") {
      this.files.delete(file.declaration.audioId);
      return new Response(null, { status: 204 });
    }
    return json(405, { error: { code: "method", message: "No." } });
  };

  #declare(declaration: Declaration): Response {
    const known = this.files.get(declaration.audioId);
    if (known) {
      if (known.declaration.sha256 !== declaration.sha256) return json(409, { error: { code: "audio_conflict", message: "Conflict." } });
      return json(200, status(known));
    }
    const file: Stored = { declaration, bytes: new Uint8Array(0), state: "uploading" };
    this.files.set(declaration.audioId, file);
    return json(201, status(file));
  }

  async #put(file: Stored, offset: number, body: Uint8Array): Promise<Response> {
    if (body.byteLength > 1024 * 1024) return json(413, { error: { code: "too_large", message: "Piece too large." } });
    if (offset !== file.bytes.byteLength) {
      return json(409, { error: { code: "wrong_offset", message: "Wrong offset." }, received: file.bytes.byteLength });
    }
    let piece = body;
    if (this.loseBytesOnce > 0) {
      piece = body.subarray(0, Math.max(0, body.byteLength - this.loseBytesOnce));
      this.loseBytesOnce = 0;
    }
    const joined = new Uint8Array(file.bytes.byteLength + piece.byteLength);
    joined.set(file.bytes);
    joined.set(piece, file.bytes.byteLength);
    file.bytes = joined;
    if (file.bytes.byteLength === file.declaration.size) {
      if (this.corruptNext > 0) {
        this.corruptNext--;
        file.bytes[0] ^= 0xff;
      }
      if ((await sha256Hex(file.bytes)) !== file.declaration.sha256) {
        file.bytes = new Uint8Array(0);
        return json(422, { error: { code: "hash_mismatch", message: "The file arrived damaged; sending it again." } });
      }
      file.state = "queued";
    }
    return json(200, status(file));
  }
}

function status(file: Stored): AudioStatus {
  return {
    audioId: file.declaration.audioId,
    received: file.bytes.byteLength,
    size: file.declaration.size,
    state: file.state,
    ...(file.error ? { error: file.error } : {}),
  };
}

function json(statusCode: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status: statusCode, headers: { "content-type": "application/json" } });
}

/** A recording's metadata with test defaults. */
export function recordingFor(audioId: string, overrides: Partial<Recording> = {}): Recording {
  return {
    audioId,
    mimeType: "audio/webm;codecs=opus",
    startedAt: 1000,
    finishedAt: null,
    recovered: false,
    size: 0,
    targetDraft: null,
    draftId: null,
    noteId: null,
    upload: { state: "pending" },
    ...overrides,
  };
}
