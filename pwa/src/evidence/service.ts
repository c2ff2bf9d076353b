// The evidence files of one user on this device: keeps a chosen file in
// IndexedDB at once and lists it in the entry (so the list syncs), uploads
// waiting files when there is signal (one at a time, retried with backoff,
// resumed where the server is), and deletes removed ones on the server.
// Every decision is made from the EvidenceStore, so a reload carries on
// where the last run stopped.

import { oneServicePerUser } from "../uploads/local";
import type { DraftId } from "../sync/ids";
import type { DraftStore } from "../sync/drafts";
import { UploadApiError } from "../uploads/http";
import { backoffDelay, uploadPieces } from "../uploads/pieces";
import { EvidenceApi, type EvidenceStatus } from "./api";
import { evidenceDatabaseName, EvidenceStore, newEvidenceId, type LocalEvidence } from "./store";
import { evidenceType, refusal } from "./types";

export type EvidenceDrafts = Pick<DraftStore, "addEvidence" | "removeEvidence" | "flush">;

export interface EvidenceEnvironment {
  online: () => boolean;
  random: () => number;
  now: () => number;
}

/** What the user sees about one file. */
export type EvidenceView =
  | { kind: "waiting"; offline: boolean }
  | { kind: "uploading"; percent: number }
  | { kind: "uploaded" }
  | { kind: "failed"; reason: string }
  /** Added on another device; not on the server (yet). */
  | { kind: "not-on-server" }
  /** Added on another device; asking the server. */
  | { kind: "unknown" };

const browserEnvironment: EvidenceEnvironment = { online: () => navigator.onLine, random: Math.random, now: Date.now };

/** How many times an upload may find its entry missing on the server (it
 * syncs separately and may not be there yet) before it is shown as failed. */
const MAX_ENTRY_MISSING = 8;
const ENTRY_MISSING = "The entry this file belongs to is not on the server. Try again once the entry has synced.";

export class EvidenceService {
  readonly store: EvidenceStore;
  readonly api: EvidenceApi;
  readonly #env: EvidenceEnvironment;
  readonly #files = new Map<string, LocalEvidence>();
  readonly #progress = new Map<string, number>();
  readonly #entryMissing = new Map<string, number>();
  readonly #listeners = new Set<() => void>();
  #pumping: Promise<void> | null = null;
  #attempt = 0;
  #retryAt = 0;

  constructor(store: EvidenceStore, api = new EvidenceApi(), env: EvidenceEnvironment = browserEnvironment) {
    this.store = store;
    this.api = api;
    this.#env = env;
  }

  async start(): Promise<void> {
    for (const file of await this.store.list()) this.#files.set(file.id, file);
    this.#emit();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Where a file held (or once held) on this device stands; null if this device never had it. */
  view(id: string): EvidenceView | null {
    const file = this.#files.get(id);
    if (!file) return null;
    const upload = file.upload;
    switch (upload.state) {
      case "pending": {
        const progress = this.#progress.get(id);
        if (progress !== undefined) return { kind: "uploading", percent: progress };
        return { kind: "waiting", offline: !this.#env.online() };
      }
      case "uploaded":
        return { kind: "uploaded" };
      case "failed":
        return { kind: "failed", reason: upload.reason };
      case "deleting":
        return null;
    }
  }

  /** Keeps `file` on this device and lists it in the entry; uploads when
   * there is signal. Returns why it was refused, or null. */
  async attach(drafts: EvidenceDrafts, documentId: DraftId, file: File): Promise<string | null> {
    const refused = refusal(file);
    if (refused) return refused;
    const record: LocalEvidence = {
      id: newEvidenceId(),
      documentId,
      name: file.name,
      mimeType: evidenceType(file)!.mimeType,
      size: file.size,
      addedAt: this.#env.now(),
      upload: { state: "pending" },
    };
    await this.store.add(record, await file.arrayBuffer());
    this.#set(record);
    const { id, name, mimeType, size, addedAt } = record;
    drafts.addEvidence(documentId, { id, name, mimeType, size, addedAt });
    await drafts.flush();
    void this.pump();
    return null;
  }

  /** Takes a file off the entry at once, and off the server when there is signal. */
  async remove(drafts: EvidenceDrafts, documentId: DraftId, id: string): Promise<void> {
    drafts.removeEvidence(documentId, id);
    const known = this.#files.get(id);
    const record: LocalEvidence = known
      ? { ...known, upload: { state: "deleting" } }
      : { id, documentId, name: "", mimeType: "", size: 0, addedAt: this.#env.now(), upload: { state: "deleting" } };
    await this.store.remove(id, true);
    await this.store.put(record);
    this.#set(record);
    void this.pump();
  }

  /** The entry was deleted (the server deleted its files with it): drops
   * this device's files and records of it, uploaded or not. */
  async forgetEntry(documentId: string): Promise<void> {
    for (const file of [...this.#files.values()]) {
      if (file.documentId !== documentId) continue;
      await this.store.remove(file.id, false);
      this.#files.delete(file.id);
    }
    this.#emit();
  }

  async retry(id: string): Promise<void> {
    const file = this.#files.get(id);
    if (file?.upload.state !== "failed") return;
    this.#entryMissing.delete(id);
    await this.#update(id, (r) => ({ ...r, upload: { state: "pending" } }));
    this.onOnline();
  }

  /** Uploads what waits and deletes what was removed, one at a time, until
   * done or the network fails (then again after a backoff). */
  pump(): Promise<void> {
    this.#pumping ??= this.#pump().finally(() => (this.#pumping = null));
    return this.#pumping;
  }

  /** Called periodically: pumps once a backoff has passed. */
  async tick(): Promise<void> {
    if (this.#env.online() && this.#env.now() >= this.#retryAt) await this.pump();
  }

  /** Signal came back: try at once. */
  onOnline(): void {
    this.#attempt = 0;
    this.#retryAt = 0;
    void this.pump();
  }

  async #pump(): Promise<void> {
    for (const file of [...this.#files.values()]) {
      if (!this.#env.online()) return;
      try {
        if (file.upload.state === "deleting") {
          await this.api.remove(file.id);
          await this.store.remove(file.id, false);
          this.#files.delete(file.id);
          this.#emit();
        } else if (file.upload.state === "pending") {
          await this.#upload(file);
        }
        this.#attempt = 0;
      } catch (error) {
        this.#progress.delete(file.id);
        if (error instanceof UploadApiError && (error.transient || this.#entryNotSyncedYet(file.id, error))) {
          this.#retryAt = this.#env.now() + backoffDelay(this.#attempt++, this.#env.random());
          this.#emit();
          return;
        }
        const reason = error instanceof UploadApiError ? (error.status === 404 ? ENTRY_MISSING : error.message) : "Something went wrong on this device while uploading.";
        await this.#update(file.id, (r) => ({ ...r, upload: { state: "failed", reason } }));
      }
    }
  }

  #entryNotSyncedYet(id: string, error: UploadApiError): boolean {
    if (error.status !== 404) return false;
    const times = (this.#entryMissing.get(id) ?? 0) + 1;
    this.#entryMissing.set(id, times);
    return times <= MAX_ENTRY_MISSING;
  }

  async #upload(file: LocalEvidence): Promise<void> {
    const bytes = await this.store.bytes(file.id);
    if (!bytes) {
      await this.#update(file.id, (r) => ({ ...r, upload: { state: "failed", reason: "This device no longer has the file. Remove it and attach it again." } }));
      return;
    }
    this.#progress.set(file.id, 0);
    this.#emit();
    const { id: evidenceId, documentId, name, mimeType } = file;
    await uploadPieces<EvidenceStatus>(
      {
        declare: (size, sha256) => this.api.declare({ evidenceId, documentId, name, mimeType, size, sha256 }),
        put: (offset, piece) => this.api.put(evidenceId, offset, piece),
      },
      bytes,
      (received, size) => {
        this.#progress.set(file.id, size ? Math.floor((received / size) * 100) : 100);
        this.#emit();
      },
    );
    this.#progress.delete(file.id);
    // The server has it all, checked: this device's copy is no longer needed.
    await this.#update(file.id, (r) => (r.upload.state === "deleting" ? r : { ...r, upload: { state: "uploaded" } }));
    if (this.#files.get(file.id)?.upload.state === "uploaded") await this.store.remove(file.id, true);
  }

  async #update(id: string, edit: (record: LocalEvidence) => LocalEvidence): Promise<void> {
    const next = await this.store.update(id, edit);
    if (next) this.#set(next);
  }

  #set(record: LocalEvidence): void {
    this.#files.set(record.id, record);
    this.#emit();
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

/** The one EvidenceService of this user in this page, started on first use. */
export const evidenceService = oneServicePerUser(async (userId) => new EvidenceService(await EvidenceStore.open(evidenceDatabaseName(userId))));
