// The server's evidence endpoints (see /api/evidence in the README): declare
// a file, send it in pieces, ask how far it got, delete it.

import { call, UploadApiError, type Fetch } from "../uploads/http";

export interface EvidenceStatus {
  evidenceId: string;
  documentId: string;
  name: string;
  mimeType: string;
  received: number;
  size: number;
  state: "uploading" | "stored";
}

export interface EvidenceDeclaration {
  evidenceId: string;
  documentId: string;
  name: string;
  mimeType: string;
  size: number;
  sha256: string;
}

export class EvidenceApi {
  readonly #fetch: Fetch;

  constructor(fetchImpl: Fetch = (...args) => fetch(...args)) {
    this.#fetch = fetchImpl;
  }

  declare(declaration: EvidenceDeclaration): Promise<EvidenceStatus> {
    return call(this.#fetch, "/api/evidence", "POST", JSON.stringify(declaration), "application/json");
  }

  put(id: string, offset: number, bytes: Uint8Array): Promise<EvidenceStatus> {
    return call(this.#fetch, `${path(id)}?offset=${offset}`, "PUT", bytes as Uint8Array<ArrayBuffer>, "application/octet-stream");
  }

  status(id: string): Promise<EvidenceStatus> {
    return call(this.#fetch, path(id), "GET");
  }

  async remove(id: string): Promise<void> {
    try {
      await call(this.#fetch, path(id), "DELETE");
    } catch (error) {
      // Already gone (or never uploaded) is what we wanted.
      if (!(error instanceof UploadApiError && error.status === 404)) throw error;
    }
  }
}

function path(id: string): string {
  return `/api/evidence/${encodeURIComponent(id)}`;
}

/** Where any of the user's devices downloads the file from. */
export function evidenceFileUrl(id: string): string {
  return `${path(id)}/file`;
}
