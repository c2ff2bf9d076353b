// Documents shared between users: those this user started to share (listed
// in the root's settings, one flat key each so two devices starting one at
// once both keep theirs: "conversation/<id>" = the entry's id, and the keys of
// supervision.ts and groups.ts) and every document others share with this
// user (the root's `shared` map, which only the server writes). This store
// loads them all and gives the peer conversations; supervision.ts and
// groups.ts read and change their kinds through it. When a share ends the
// server takes it off that map; this device then deletes its copy and says
// so, once.

import type { DocHandle, DocumentId, Repo } from "@automerge/automerge-repo/slim";
import { USER_KEYS } from "../local/keys";
import { json, Stored } from "../local/stored";
import { CONVERSATION_SCHEMA_VERSION, CONVERSATION_TYPE, ENTRY_TYPE, GROUP_TYPE, SUPERVISION_TYPE, type Contribution, type ConversationDoc, type MemberRole, type RootDoc, type SharedWithMe } from "./schema";

/** The ID of a document shared between users, as the rest of the app knows it. */
export type SharedDocId = DocumentId;

/** A shared document's ID from a route or a server reply. */
export function asSharedDocId(value: string): SharedDocId {
  return value as SharedDocId;
}

export type Access = "owner" | MemberRole;

export interface ConversationRecord {
  id: DocumentId;
  access: Access;
  /** The owner's entry the conversation is about (only the owner knows it). */
  entryId: string | null;
  /** Null until the document is on this device. */
  doc: ConversationDoc | null;
}

/** A document shared with this user, of whatever kind. */
export interface SharedRecord {
  id: DocumentId;
  role: MemberRole;
  ownerDisplayName: string;
  since: string;
  /** The document's `type` ("fieldbook/conversation"), null until it is here. */
  kind: string | null;
  title: string;
}

const OWNED_PREFIX = "conversation/";
/** Every kind of document this user shares, by its key in the root's settings. */
const OWNED_PREFIXES = [OWNED_PREFIX, "supervision/", "group/"] as const;
export type OwnedPrefix = (typeof OWNED_PREFIXES)[number];
/** The kinds a member writes their role into when they join. */
const JOINABLE: readonly string[] = [CONVERSATION_TYPE, SUPERVISION_TYPE, GROUP_TYPE];

export interface NewConversation {
  topic: string;
  description: string | null;
  learning: string | null;
  /** The owner's own role, shown with what they write. */
  role: string;
}

export class ConversationStore {
  readonly #repo: Repo;
  readonly #root: DocHandle<RootDoc>;
  readonly #userId: string;
  readonly #message: string;
  /** Titles of the shares this device knows, by document. */
  readonly #known: Stored<Record<string, string>>;
  readonly #handles = new Map<DocumentId, DocHandle<unknown>>();
  readonly #loading = new Set<DocumentId>();
  /** Shares accepted on this device that the root does not list yet. */
  readonly #joining = new Set<DocumentId>();
  readonly #listeners = new Set<() => void>();
  #notices: string[] = [];

  /** `storage` is localStorage unless given. */
  constructor(repo: Repo, root: DocHandle<RootDoc>, userId: string, message: string, storage?: Storage) {
    this.#repo = repo;
    this.#root = root;
    this.#userId = userId;
    this.#message = message;
    this.#known = knownShares(userId, storage);
    root.on("change", () => this.#syncWithRoot());
    this.#syncWithRoot();
  }

  get userId(): string {
    return this.#userId;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Every handle whose sync state matters. */
  handles(): DocHandle<unknown>[] {
    return [...this.#handles.values()];
  }

  /** The conversations this user started or was let into, newest first. */
  conversations(): ConversationRecord[] {
    const owned = this.#owned();
    const shared = this.#shares();
    const records: ConversationRecord[] = [];
    for (const [id, entryId] of owned) records.push({ id, access: "owner", entryId, doc: this.#conversationDoc(id) });
    for (const [key, share] of Object.entries(shared)) {
      const id = key as DocumentId;
      const doc = this.#conversationDoc(id);
      if (doc || !this.#kindOf(id)) records.push({ id, access: share.role, entryId: null, doc });
    }
    for (const id of this.#joining) {
      if (!records.some((record) => record.id === id)) records.push({ id, access: "writer", entryId: null, doc: this.#conversationDoc(id) });
    }
    return records.sort((a, b) => (b.doc?.createdAt ?? 0) - (a.doc?.createdAt ?? 0));
  }

  conversation(id: DocumentId): ConversationRecord | undefined {
    return this.conversations().find((record) => record.id === id);
  }

  /** The conversation the owner started about one of their entries. */
  forEntry(entryId: string): ConversationRecord | undefined {
    return this.conversations().find((record) => record.access === "owner" && record.entryId === entryId);
  }

  /** Everything shared with this user, newest share first. */
  shared(): SharedRecord[] {
    return Object.entries(this.#shares())
      .map(([id, share]: [string, SharedWithMe]) => ({
        id: id as DocumentId,
        role: share.role,
        ownerDisplayName: share.ownerDisplayName,
        since: share.since,
        kind: this.#kindOf(id as DocumentId),
        title: this.#titleOf(id as DocumentId),
      }))
      .sort((a, b) => b.since.localeCompare(a.since));
  }

  /** Titles of shares that ended since the user was last told. */
  notices(): readonly string[] {
    return this.#notices;
  }

  dismissNotices(): void {
    this.#notices = [];
    this.#emit();
  }

  /** Starts a conversation about an entry; the caller has checked what it shows. */
  start(entryId: string, fields: NewConversation): DocumentId {
    const doc: ConversationDoc = {
      type: CONVERSATION_TYPE,
      schemaVersion: CONVERSATION_SCHEMA_VERSION,
      createdAt: Date.now(),
      ownerId: this.#userId,
      topic: fields.topic,
      shown: { description: fields.description, learning: fields.learning },
      roles: { [this.#userId]: fields.role },
      contributions: [],
    };
    return this.createOwned(OWNED_PREFIX, doc, entryId);
  }

  /** Adds to the discussion as this user, with their role; null for a reader
   * or a conversation not on this device. */
  contribute(id: DocumentId, text: string): string | null {
    const record = this.conversation(id);
    const trimmed = text.trim();
    if (!record?.doc || record.access === "reader" || !trimmed) return null;
    const contribution: Contribution = {
      id: crypto.randomUUID(),
      authorId: this.#userId,
      role: record.doc.roles[this.#userId] ?? "",
      createdAt: Date.now(),
      text: trimmed,
    };
    this.#change(id, (doc) => {
      doc.contributions.push(contribution);
    });
    return contribution.id;
  }

  /** Sets the role this user is shown by in a conversation. */
  setMyRole(id: DocumentId, role: string): void {
    this.#change(id, (doc) => {
      doc.roles[this.#userId] = role;
    });
  }

  /** The owner takes a removed member's role off the conversation. */
  forgetParticipant(id: DocumentId, userId: string): void {
    this.#change(id, (doc) => {
      if (doc.ownerId === this.#userId && userId !== this.#userId) delete doc.roles[userId];
    });
  }

  /** After accepting an invitation: fetches the document and records this
   * user's role in it. Its kind ("fieldbook/supervision"), or null if it did
   * not arrive. */
  async join(id: DocumentId, role: string): Promise<string | null> {
    this.#joining.add(id);
    this.#emit();
    try {
      const handle = await this.#repo.find<{ type?: string; roles?: Record<string, string> }>(id);
      this.#watch(handle);
      const doc = handle.doc();
      if (doc?.type && JOINABLE.includes(doc.type) && doc.roles && doc.roles[this.#userId] !== role) {
        handle.change((doc) => void (doc.roles![this.#userId] = role), { message: this.#message });
      }
      return doc?.type ?? null;
    } catch {
      this.#joining.delete(id);
      this.#emit();
      return null;
    }
  }

  /** The documents of one kind this user shares, with the value of each one's
   * settings key (the entry a conversation is about, …). */
  owned(prefix: OwnedPrefix): [DocumentId, string][] {
    return this.settingsWith(prefix) as [DocumentId, string][];
  }

  /** The root's flat settings under `prefix` that hold strings, by the rest of their key. */
  settingsWith(prefix: string): [string, string][] {
    const settings = this.#root.doc()?.settings ?? {};
    return Object.entries(settings)
      .filter(([key, value]) => key.startsWith(prefix) && typeof value === "string")
      .map(([key, value]) => [key.slice(prefix.length), value as string]);
  }

  /** This user's access to a document shared either way, null if none. */
  accessOf(id: DocumentId): Access | null {
    if (OWNED_PREFIXES.some((prefix) => typeof this.#root.doc()?.settings?.[prefix + id] === "string")) return "owner";
    const share = this.#shares()[id];
    if (share) return share.role;
    return this.#joining.has(id) ? "writer" : null;
  }

  /** A shared document as it is on this device; undefined until it is here. */
  documentOf(id: DocumentId): unknown {
    const handle = this.#handles.get(id);
    return handle?.isReady() ? handle.doc() : undefined;
  }

  /** Starts sharing a new document of this user's: `value` goes under its
   * settings key. */
  createOwned<T>(prefix: OwnedPrefix, doc: T, value: string): DocumentId {
    const handle = this.#repo.create<T>(doc);
    void this.#repo.flush([handle.documentId]);
    this.#watch(handle as DocHandle<unknown>);
    this.#root.change((root) => {
      root.settings ??= {};
      root.settings[prefix + handle.documentId] = value;
    });
    return handle.documentId;
  }

  /** One of the root's flat settings, if it holds a string. */
  setting(key: string): string | null {
    const value = this.#root.doc()?.settings?.[key];
    return typeof value === "string" ? value : null;
  }

  /** Sets (or, with null, removes) one of the root's flat settings. */
  setSetting(key: string, value: string | null): void {
    if (this.setting(key) === value) return;
    this.#root.change((root) => {
      root.settings ??= {};
      if (value === null) delete root.settings[key];
      else root.settings[key] = value;
    });
  }

  /** Changes a shared document this user may write in, if it is here. */
  changeDocument<T>(id: DocumentId, edit: (doc: T) => void): void {
    const handle = this.#handles.get(id) as DocHandle<T> | undefined;
    if (!handle?.isReady() || this.accessOf(id) === "reader") return;
    handle.change(edit, { message: this.#message });
  }

  /** The root's `shared` map as plain strings: the server writes its values
   * as Automerge scalar strings, which Automerge 3 gives as ImmutableString
   * objects (so `role === "reader"` would never hold). */
  #shares(): Record<string, SharedWithMe> {
    const shared = this.#root.doc()?.shared ?? {};
    return Object.fromEntries(
      Object.entries(shared).map(([id, share]) => [id, { role: String(share.role) as MemberRole, ownerDisplayName: String(share.ownerDisplayName ?? ""), since: String(share.since ?? "") }]),
    );
  }

  #owned(): [DocumentId, string][] {
    return this.owned(OWNED_PREFIX);
  }

  #docOf(id: DocumentId): unknown {
    return this.documentOf(id);
  }

  #kindOf(id: DocumentId): string | null {
    const doc = this.#docOf(id) as { type?: unknown } | undefined;
    return typeof doc?.type === "string" ? doc.type : null;
  }

  #conversationDoc(id: DocumentId): ConversationDoc | null {
    const doc = this.#docOf(id) as ConversationDoc | undefined;
    return doc?.type === CONVERSATION_TYPE ? doc : null;
  }

  #titleOf(id: DocumentId): string {
    const doc = this.#docOf(id) as { topic?: unknown; title?: unknown; name?: unknown } | undefined;
    const title = [doc?.topic, doc?.title, doc?.name].find((value) => typeof value === "string" && value.trim());
    return (title as string | undefined)?.trim() ?? this.#known.read()[id] ?? "";
  }

  #change(id: DocumentId, edit: (doc: ConversationDoc) => void): void {
    const handle = this.#handles.get(id) as DocHandle<ConversationDoc> | undefined;
    if (!handle?.isReady()) return;
    handle.change(edit, { message: this.#message });
  }

  #syncWithRoot(): void {
    const root = this.#root.doc();
    if (!root) return;
    const shared = Object.keys(root.shared ?? {}) as DocumentId[];
    for (const id of shared) this.#joining.delete(id);
    const owned = OWNED_PREFIXES.flatMap((prefix) => this.owned(prefix).map(([id]) => id));
    const wanted = new Set<DocumentId>([...owned, ...shared, ...this.#joining]);
    for (const id of wanted) {
      if (!this.#handles.has(id) && !this.#loading.has(id)) void this.#load(id);
    }
    // A share this device knew that the server has taken away.
    const known = { ...this.#known.read() };
    for (const id of Object.keys(known) as DocumentId[]) {
      if (wanted.has(id)) continue;
      this.#notices = [...this.#notices, known[id] || "A document"];
      delete known[id];
    }
    this.#known.write(known);
    for (const id of [...this.#handles.keys()]) {
      if (!wanted.has(id)) this.#forget(id);
    }
    for (const id of shared) this.#remember(id);
    this.#emit();
  }

  async #load(id: DocumentId): Promise<void> {
    this.#loading.add(id);
    try {
      // `unavailable`: not on this device yet; the handle turns ready when it arrives.
      const handle = await this.#repo.find(id, { allowableStates: ["ready", "unavailable"] });
      this.#watch(handle);
    } catch {
      // Deleted, or not a document: nothing to show.
    } finally {
      this.#loading.delete(id);
    }
    this.#syncWithRoot();
  }

  #watch(handle: DocHandle<unknown>): void {
    if (this.#handles.has(handle.documentId)) return;
    this.#handles.set(handle.documentId, handle);
    handle.on("change", () => {
      this.#remember(handle.documentId);
      this.#emit();
    });
    handle.on("remote-heads", () => this.#emit());
    this.#emit();
  }

  #forget(id: DocumentId): void {
    this.#handles.get(id)?.removeAllListeners();
    this.#handles.delete(id);
    this.#repo.delete(id);
  }

  /** Keeps a shared document's title on this device, to name it if the share
   * ends. Not an entry read in a supervision: the supervision names the share. */
  #remember(id: DocumentId): void {
    if (!(id in (this.#root.doc()?.shared ?? {})) || this.#kindOf(id) === ENTRY_TYPE) return;
    const known = this.#known.read();
    if (id in known) {
      const title = this.#titleOf(id);
      if (known[id] !== title) this.#known.write({ ...known, [id]: title });
      return;
    }
    // Known here only once this device's stored root lists it: a root not yet
    // saved when the app closed must not look like an ended share next time.
    void this.#repo
      .flush([this.#root.documentId])
      .then(() => {
        if (!(id in (this.#root.doc()?.shared ?? {}))) return;
        this.#known.write({ ...this.#known.read(), [id]: this.#titleOf(id) });
      })
      .catch(() => undefined);
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

/** The titles of the shares this device knows for `userId`, by document;
 * `storage` is localStorage unless given. */
export function knownShares(userId: string, storage?: Storage): Stored<Record<string, string>> {
  return new Stored(USER_KEYS.shares(userId), titlesCodec, {}, storage);
}

const titlesCodec = json((value): Record<string, string> | undefined =>
  value && typeof value === "object" && !Array.isArray(value) && Object.values(value).every((title) => typeof title === "string") ? (value as Record<string, string>) : undefined,
);
