// Peer learning groups: an owner and members who all write, meeting in
// sessions (a date, a topic, what was discussed, each part by its writer's
// role). For formal peer learning groups and for lone workers who meet peers
// from other teams on the same server. A member links a session to an entry
// of their own as its peer discussion: the link is theirs alone, in their
// root's settings ("peerSession/<entry id>" = "<group id>/<session id>"),
// so the group never learns which entry it fed. The owner's settings key is
// "group/<id>".

import type { DocumentId } from "@automerge/automerge-repo/slim";
import type { Access, ConversationStore } from "./conversations";
import { GROUP_SCHEMA_VERSION, GROUP_TYPE, type Contribution, type GroupDoc, type GroupSession } from "./schema";

const PREFIX = "group/";
const LINK_PREFIX = "peerSession/";

export interface GroupRecord {
  id: DocumentId;
  access: Access;
  /** Null until the document is on this device. */
  doc: GroupDoc | null;
}

/** A session linked to an entry, with what is on this device of it. */
export interface LinkedSession {
  groupId: DocumentId;
  sessionId: string;
  group: GroupDoc | null;
  session: GroupSession | null;
}

export class GroupStore {
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

  /** The groups this user runs or belongs to, newest first. */
  list(): GroupRecord[] {
    const owned = this.#shared.owned(PREFIX).map(([id]) => id);
    const shared = this.#shared.shared().filter((share) => share.kind === GROUP_TYPE).map((share) => share.id);
    return [...new Set([...owned, ...shared])]
      .map((id) => ({ id, access: this.#shared.accessOf(id) ?? "reader", doc: this.#doc(id) }))
      .sort((a, b) => (b.doc?.createdAt ?? 0) - (a.doc?.createdAt ?? 0));
  }

  /** One group; also one just joined whose kind is not known yet. */
  get(id: DocumentId): GroupRecord | undefined {
    const access = this.#shared.accessOf(id);
    if (!access) return undefined;
    const doc = this.#doc(id);
    if (!doc && this.#shared.documentOf(id) !== undefined) return undefined;
    return { id, access, doc };
  }

  /** Starts a group; the caller has checked its name. */
  start(name: string, role: string): DocumentId {
    const doc: GroupDoc = {
      type: GROUP_TYPE,
      schemaVersion: GROUP_SCHEMA_VERSION,
      createdAt: Date.now(),
      ownerId: this.userId,
      name: name.trim(),
      roles: { [this.userId]: role },
      sessions: [],
    };
    return this.#shared.createOwned(PREFIX, doc, "");
  }

  /** Adds a session (`date` yyyy-mm-dd); its id, or null if this user cannot write here. */
  addSession(id: DocumentId, date: string, topic: string): string | null {
    if (!this.#writable(id) || !topic.trim()) return null;
    const session: GroupSession = { id: crypto.randomUUID(), createdAt: Date.now(), authorId: this.userId, date, topic: topic.trim(), discussed: [] };
    this.#shared.changeDocument<GroupDoc>(id, (doc) => {
      doc.sessions.push(session);
    });
    return session.id;
  }

  /** Adds to what was discussed in a session, as this user with their role. */
  addToSession(id: DocumentId, sessionId: string, text: string): string | null {
    const doc = this.#doc(id);
    const trimmed = text.trim();
    if (!doc || !this.#writable(id) || !trimmed || !doc.sessions.some((session) => session.id === sessionId)) return null;
    const contribution: Contribution = { id: crypto.randomUUID(), authorId: this.userId, role: doc.roles[this.userId] ?? "", createdAt: Date.now(), text: trimmed };
    this.#shared.changeDocument<GroupDoc>(id, (doc) => {
      doc.sessions.find((session) => session.id === sessionId)?.discussed.push(contribution);
    });
    return contribution.id;
  }

  /** The owner takes a removed member's role off the group. */
  forgetParticipant(id: DocumentId, userId: string): void {
    if (this.#shared.accessOf(id) !== "owner" || userId === this.userId) return;
    this.#shared.changeDocument<GroupDoc>(id, (doc) => {
      delete doc.roles[userId];
    });
  }

  /** Makes a session the peer discussion of one of this user's entries (null unlinks). */
  linkSession(entryId: string, link: { groupId: DocumentId; sessionId: string } | null): void {
    this.#shared.setSetting(LINK_PREFIX + entryId, link ? `${link.groupId}/${link.sessionId}` : null);
  }

  /** The session linked to an entry, if any. */
  linkedSession(entryId: string): LinkedSession | null {
    const link = this.#shared.setting(LINK_PREFIX + entryId);
    const [groupId, sessionId] = link?.split("/") ?? [];
    if (!groupId || !sessionId) return null;
    const group = this.#doc(groupId as DocumentId);
    return { groupId: groupId as DocumentId, sessionId, group, session: group?.sessions.find((session) => session.id === sessionId) ?? null };
  }

  /** The entries of this user's linked to a session. */
  entriesLinkedTo(groupId: DocumentId, sessionId: string): string[] {
    return this.#shared
      .settingsWith(LINK_PREFIX)
      .filter(([, value]) => value === `${groupId}/${sessionId}`)
      .map(([entryId]) => entryId);
  }

  #writable(id: DocumentId): boolean {
    const access = this.#shared.accessOf(id);
    return !!access && access !== "reader";
  }

  #doc(id: DocumentId): GroupDoc | null {
    const doc = this.#shared.documentOf(id) as GroupDoc | undefined;
    return doc?.type === GROUP_TYPE ? doc : null;
  }
}
