// Supervisor views: the owner shares one entry, or a registration year's
// portfolio, to read, with a comments document (SupervisionDoc) that both
// sides write in. The entries stay the owner's: the server shares each with
// the supervisor as a reader and refuses their changes, and this store never
// changes a document it only reads. The owner's settings key is
// "supervision/<id>" = what it covers ("entry:<id>" or "year:2025-26").

import type { DocumentId } from "@automerge/automerge-repo/slim";
import type { Access, ConversationStore } from "./conversations";
import { ENTRY_TYPE, SUPERVISION_SCHEMA_VERSION, SUPERVISION_TYPE, type Comment, type EntryDoc, type SupervisionDoc, type SupervisionScope } from "./schema";

const PREFIX = "supervision/";

export interface SupervisionRecord {
  id: DocumentId;
  access: Access;
  /** Null until the document is on this device. */
  doc: SupervisionDoc | null;
}

export interface NewSupervision {
  scope: SupervisionScope;
  topic: string;
  /** The entries shared from the start (those that passed the check). */
  entries: string[];
  /** The owner's own role, shown with what they write. */
  role: string;
}

export class SupervisionStore {
  readonly #shared: ConversationStore;

  constructor(shared: ConversationStore) {
    this.#shared = shared;
  }

  get userId(): string {
    return this.#shared.userId;
  }

  subscribe(listener: () => void): () => void {
    return this.#shared.subscribe(listener);
  }

  /** The supervisor views this user shares or reads, newest first. */
  list(): SupervisionRecord[] {
    const owned = this.#shared.owned(PREFIX).map(([id]) => id);
    const shared = this.#shared.shared().filter((share) => share.kind === SUPERVISION_TYPE).map((share) => share.id);
    return [...new Set([...owned, ...shared])]
      .map((id) => ({ id, access: this.#shared.accessOf(id) ?? "reader", doc: this.#doc(id) }))
      .sort((a, b) => (b.doc?.createdAt ?? 0) - (a.doc?.createdAt ?? 0));
  }

  /** One supervisor view; also one just joined whose kind is not known yet. */
  get(id: DocumentId): SupervisionRecord | undefined {
    const access = this.#shared.accessOf(id);
    if (!access) return undefined;
    const doc = this.#doc(id);
    const kind = (this.#shared.documentOf(id) as { type?: unknown } | undefined)?.type;
    if (!doc && kind !== undefined) return undefined;
    return { id, access, doc };
  }

  /** The owner's views that cover one of their entries. */
  forEntry(entryId: string): SupervisionRecord[] {
    return this.list().filter((record) => record.access === "owner" && !!record.doc && (entryId in record.doc.entries || (record.doc.scope.kind === "entry" && record.doc.scope.entryId === entryId)));
  }

  /** The owner's view of one registration year's portfolio, if shared. */
  forYear(label: string): SupervisionRecord | undefined {
    return this.list().find((record) => record.access === "owner" && record.doc?.scope.kind === "year" && record.doc.scope.year === label);
  }

  /** Starts a supervisor view; the caller has checked what it shares. */
  start(fields: NewSupervision): DocumentId {
    const now = Date.now();
    const doc: SupervisionDoc = {
      type: SUPERVISION_TYPE,
      schemaVersion: SUPERVISION_SCHEMA_VERSION,
      createdAt: now,
      ownerId: this.userId,
      topic: fields.topic,
      scope: fields.scope,
      entries: Object.fromEntries(fields.entries.map((entryId) => [entryId, { addedAt: now }])),
      roles: { [this.userId]: fields.role },
      comments: [],
    };
    const covers = fields.scope.kind === "entry" ? `entry:${fields.scope.entryId}` : `year:${fields.scope.year}`;
    return this.#shared.createOwned(PREFIX, doc, covers);
  }

  /** The supervisor's read-only copy of one of the owner's entries, null
   * until it is on this device or if it is not shared with this user. */
  sharedEntry(entryId: string): EntryDoc | null {
    if (this.#shared.accessOf(entryId as DocumentId) !== "reader") return null;
    const doc = this.#shared.documentOf(entryId as DocumentId) as EntryDoc | undefined;
    return doc?.type === ENTRY_TYPE ? doc : null;
  }

  /** Comments on one entry, oldest first. */
  comments(id: DocumentId, entryId: string): Comment[] {
    return (this.#doc(id)?.comments ?? []).filter((comment) => comment.entryId === entryId).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Adds a comment on an entry as this user, with their role; null if it
   * cannot be written here. */
  comment(id: DocumentId, entryId: string, text: string): string | null {
    const doc = this.#doc(id);
    const trimmed = text.trim();
    const access = this.#shared.accessOf(id);
    if (!doc || !access || access === "reader" || !trimmed || !(entryId in doc.entries)) return null;
    const comment: Comment = { id: crypto.randomUUID(), entryId, authorId: this.userId, role: doc.roles[this.userId] ?? "", createdAt: Date.now(), text: trimmed };
    this.#shared.changeDocument<SupervisionDoc>(id, (doc) => {
      doc.comments.push(comment);
    });
    return comment.id;
  }

  /** The owner's app keeps the list of shared entries (see sharing/supervision-grants.ts). */
  updateEntries(id: DocumentId, add: readonly string[], drop: readonly string[]): void {
    if (this.#shared.accessOf(id) !== "owner" || (add.length === 0 && drop.length === 0)) return;
    const now = Date.now();
    this.#shared.changeDocument<SupervisionDoc>(id, (doc) => {
      for (const entryId of add) if (!(entryId in doc.entries)) doc.entries[entryId] = { addedAt: now };
      for (const entryId of drop) delete doc.entries[entryId];
    });
  }

  /** The owner takes a removed supervisor's role off the view. */
  forgetParticipant(id: DocumentId, userId: string): void {
    if (this.#shared.accessOf(id) !== "owner" || userId === this.userId) return;
    this.#shared.changeDocument<SupervisionDoc>(id, (doc) => {
      delete doc.roles[userId];
    });
  }

  #doc(id: DocumentId): SupervisionDoc | null {
    const doc = this.#shared.documentOf(id) as SupervisionDoc | undefined;
    return doc?.type === SUPERVISION_TYPE ? doc : null;
  }
}
