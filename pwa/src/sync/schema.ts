// The shapes of Fieldbook's Automerge documents, as ARCHITECTURE.md defines them;
// the mirror of shared/src/entry.rs, checked against it by schema.test.ts.
// Long text fields are Automerge text (plain JS strings in Automerge 3), so
// concurrent edits on two devices merge by character. Times are milliseconds
// since the epoch.

export const ENTRY_TYPE = "fieldbook/entry";
export const ENTRY_SCHEMA_VERSION = 1;

export type EntryStatus = "draft" | "ready" | "recorded";

export interface Note {
  id: string;
  createdAt: number;
  /** The name of the device the note was captured on. */
  device: string;
  kind: "text" | "voice";
  text: string;
  audio: string | null;
  transcript: string | null;
}

/** A file attached as evidence (certificate, slides, photo of a handout);
 * the file is on the server at `/api/evidence/{id}/file`. */
export interface Evidence {
  id: string;
  /** The file's name as the user chose it. */
  name: string;
  mimeType: string;
  size: number;
  addedAt: number;
}

export interface PeerReflection {
  peerRole: string;
  discussedOn: string | null;
  text: string;
}

export interface EntryDoc {
  type: typeof ENTRY_TYPE;
  schemaVersion: number;
  createdAt: number;
  updatedAt: number;
  status: EntryStatus;
  recordedOnSweAt: number | null;
  title: string;
  activityDate: string | null;
  activityType: string | null;
  description: string;
  learning: string;
  impact: string;
  peerReflection: PeerReflection | null;
  standards: string[];
  pcf: string[];
  tags: string[];
  notes: Note[];
  /** Anonymisation flags the user looked at and kept ("kind:text"). */
  dismissedFlags: string[];
  /** Absent in entries made before evidence could be attached. */
  evidence?: Evidence[];
  /** Text fields changed on two devices while apart, by field ("description",
   * "peerReflection.text"), until the user dismisses the mark (see merges.ts).
   * Absent in entries made before marks existed. */
  mergeMarks?: Record<string, MergeMark>;
}

/** One side of a merge: the device and the document's heads as it had them. */
export interface MergeSide {
  deviceId: string;
  /** The device's name, as the user knows it ("" if unknown). */
  device: string;
  heads: string[];
}

export interface MergeMark {
  sides: MergeSide[];
}

/** The user's root document, created by the server at registration. */
export interface RootDoc {
  type: "fieldbook/root";
  schemaVersion: number;
  entries: Record<string, { addedAt: number }>;
  settings: Record<string, unknown>;
  /** Documents other users share with this one, written by the server alone
   * when an invitation is accepted and deleted when the share ends. */
  shared?: Record<string, SharedWithMe>;
}

export type MemberRole = "writer" | "reader";

export interface SharedWithMe {
  role: MemberRole;
  /** The name the owner goes by in shares (never their email). */
  ownerDisplayName: string;
  /** ISO 8601. */
  since: string;
}

export const CONVERSATION_TYPE = "fieldbook/conversation";
export const CONVERSATION_SCHEMA_VERSION = 1;

/** One thing said in a peer conversation, marked with its writer's role. */
export interface Contribution {
  id: string;
  /** The writer's user id on the server: says which contributions are "yours". */
  authorId: string;
  /** The writer's professional role as they gave it when they wrote this. */
  role: string;
  createdAt: number;
  text: string;
}

/** A peer conversation about one CPD entry: what its owner chose to show of
 * the entry and the discussion both sides write in. Participants appear by
 * role, never by name. */
export interface ConversationDoc {
  type: typeof CONVERSATION_TYPE;
  schemaVersion: number;
  createdAt: number;
  ownerId: string;
  /** What the conversation is about (the entry's title, as the owner shares it). */
  topic: string;
  /** The parts of the entry the owner shows; null for a part not shown. */
  shown: { description: string | null; learning: string | null };
  /** Each participant's role, by user id. */
  roles: Record<string, string>;
  contributions: Contribution[];
}

export const SUPERVISION_TYPE = "fieldbook/supervision";
export const SUPERVISION_SCHEMA_VERSION = 1;

/** What a supervisor reads: one entry, or a registration year's portfolio
 * (its label, "2025-26"), which grows as the owner dates entries in it. */
export type SupervisionScope = { kind: "entry"; entryId: string } | { kind: "year"; year: string };

/** A supervisor's comment on one of the owner's entries, marked with role. */
export interface Comment extends Contribution {
  entryId: string;
}

/** The comments document of a supervisor view. The owner's entries stay
 * theirs: each is shared with the supervisor to read, and this document,
 * which both write in, lists them and holds the comments. */
export interface SupervisionDoc {
  type: typeof SUPERVISION_TYPE;
  schemaVersion: number;
  createdAt: number;
  ownerId: string;
  /** What the share is called ("CPD portfolio 2025-26" or the entry's title). */
  topic: string;
  scope: SupervisionScope;
  /** The owner's entries shared with the supervisors, written by the owner's
   * app; only an index: the server's grants decide who can read an entry. */
  entries: Record<string, { addedAt: number }>;
  /** Each participant's role, by user id. */
  roles: Record<string, string>;
  comments: Comment[];
}

export const GROUP_TYPE = "fieldbook/group";
export const GROUP_SCHEMA_VERSION = 1;

/** One meeting of a peer learning group; members add what was discussed. */
export interface GroupSession {
  id: string;
  createdAt: number;
  authorId: string;
  /** The day it met (yyyy-mm-dd). */
  date: string;
  topic: string;
  discussed: Contribution[];
}

/** A peer learning group: an owner and members who all write, by role. */
export interface GroupDoc {
  type: typeof GROUP_TYPE;
  schemaVersion: number;
  createdAt: number;
  ownerId: string;
  name: string;
  roles: Record<string, string>;
  sessions: GroupSession[];
}

export function newNote(id: string, device: string, text: string, now: number): Note {
  return { id, createdAt: now, device, kind: "text", text, audio: null, transcript: null };
}

/** A draft is an entry that so far has only notes. */
export function newDraft(firstNote: Note): EntryDoc {
  return {
    type: ENTRY_TYPE,
    schemaVersion: ENTRY_SCHEMA_VERSION,
    createdAt: firstNote.createdAt,
    updatedAt: firstNote.createdAt,
    status: "draft",
    recordedOnSweAt: null,
    title: "",
    activityDate: null,
    activityType: null,
    description: "",
    learning: "",
    impact: "",
    peerReflection: null,
    standards: [],
    pcf: [],
    tags: [],
    notes: [firstNote],
    dismissedFlags: [],
    evidence: [],
    mergeMarks: {},
  };
}
