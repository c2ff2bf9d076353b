// Evidence files on this device, in their own IndexedDB database (one per
// user): a file goes in the moment it is chosen, with no signal needed, and
// waits there until it is uploaded; then only its record stays, so this
// device can say it is on the server. Records and bytes are apart so the
// list can be read without loading every file.

import { done, newUploadId, request } from "../uploads/local";

/** Where a file's upload stands, as this device knows it. */
export type EvidenceUpload =
  /** On this device, not yet on the server (no signal, or not tried yet). */
  | { state: "pending" }
  /** On the server; this device's copy of the bytes is gone. */
  | { state: "uploaded" }
  /** Refused by the server; `reason` is for the user. */
  | { state: "failed"; reason: string }
  /** Removed from the entry; the server's copy goes when there is signal. */
  | { state: "deleting" };

export interface LocalEvidence {
  id: string;
  /** The entry it is attached to. */
  documentId: string;
  name: string;
  mimeType: string;
  size: number;
  addedAt: number;
  upload: EvidenceUpload;
}

interface Bytes {
  id: string;
  data: ArrayBuffer;
}

const FILES = "files";
const BYTES = "bytes";

export function evidenceDatabaseName(userId: string): string {
  return `fieldbook-evidence-${userId}`;
}

/** A random ID: 22 characters of [A-Za-z0-9_-] (the contract allows 16–64). */
export function newEvidenceId(): string {
  return newUploadId();
}

export class EvidenceStore {
  readonly #db: IDBDatabase;

  private constructor(db: IDBDatabase) {
    this.#db = db;
  }

  static async open(name: string): Promise<EvidenceStore> {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore(FILES, { keyPath: "id" });
      req.result.createObjectStore(BYTES, { keyPath: "id" });
    };
    return new EvidenceStore(await request(req));
  }

  /** Keeps a file and its record, in one transaction. */
  async add(record: LocalEvidence, data: ArrayBuffer): Promise<void> {
    const tx = this.#db.transaction([FILES, BYTES], "readwrite");
    tx.objectStore(BYTES).put({ id: record.id, data } satisfies Bytes);
    tx.objectStore(FILES).put(record);
    await done(tx);
  }

  async list(): Promise<LocalEvidence[]> {
    const tx = this.#db.transaction(FILES, "readonly");
    const all = await request(tx.objectStore(FILES).getAll() as IDBRequest<LocalEvidence[]>);
    return all.sort((a, b) => a.addedAt - b.addedAt);
  }

  /** The file's bytes, if this device still has them. */
  async bytes(id: string): Promise<Uint8Array | null> {
    const tx = this.#db.transaction(BYTES, "readonly");
    const stored = await request(tx.objectStore(BYTES).get(id) as IDBRequest<Bytes | undefined>);
    return stored ? new Uint8Array(stored.data) : null;
  }

  /** Stores a record (a new one for a removal made before this device had it). */
  async put(record: LocalEvidence): Promise<void> {
    const tx = this.#db.transaction(FILES, "readwrite");
    tx.objectStore(FILES).put(record);
    await done(tx);
  }

  /** Changes a record; returns the new value (undefined if it is gone). */
  async update(id: string, edit: (record: LocalEvidence) => LocalEvidence): Promise<LocalEvidence | undefined> {
    const tx = this.#db.transaction(FILES, "readwrite");
    const files = tx.objectStore(FILES);
    const current = await request(files.get(id) as IDBRequest<LocalEvidence | undefined>);
    const next = current ? edit(current) : undefined;
    if (next) files.put(next);
    await done(tx);
    return next;
  }

  /** Drops the bytes, and (unless `keepRecord`) the record too. */
  async remove(id: string, keepRecord: boolean): Promise<void> {
    const tx = this.#db.transaction([FILES, BYTES], "readwrite");
    tx.objectStore(BYTES).delete(id);
    if (!keepRecord) tx.objectStore(FILES).delete(id);
    await done(tx);
  }
}
