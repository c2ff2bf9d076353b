// What may be shared with a peer, and how a peer's Fieldbook turns a
// conversation into an entry of its own. Pure: no Automerge, no DOM. Every
// text that goes into a shared document passes the identifying-details check
// first (SWE: peer discussions online must keep people unidentifiable).

import { findIdentifyingDetails, type Flag } from "../anonymise";
import { flagKey } from "../anonymise/flag-key";
import { undismissedFlags } from "../entries/FieldFlags";
import { summarize } from "../cpd/summary";
import { ukDateOf } from "../cpd/year";
import { newDraft, newNote, type ConversationDoc, type EntryDoc, type GroupDoc, type GroupSession } from "../sync/schema";

export type SharePart = "description" | "learning";

export const SHARE_PARTS: { part: SharePart; label: string }[] = [
  { part: "description", label: "What the activity was and why it is relevant (Description)" },
  { part: "learning", label: "What you learnt" },
];

/** Roles people in a conversation commonly give; any other can be typed. */
export const CONVERSATION_ROLES: readonly string[] = [
  "Social worker",
  "Senior practitioner",
  "Advanced practitioner",
  "Manager or supervisor",
  "Practice educator",
  "Occupational therapist",
  "Psychologist",
  "Nurse",
  "Health visitor",
  "GP",
  "Teacher",
  "Police officer",
  "Person with lived experience",
];

/** Flags in `text` not among the `kept` keys ("kind:text"). */
export function openFlags(text: string, kept: readonly string[] = []): Flag[] {
  return findIdentifyingDetails(text).filter((flag) => !kept.includes(flagKey(flag)));
}

/** Why the entry cannot be shared at all, or null if it can. */
export function shareBlocked(doc: EntryDoc): string | null {
  const open = undismissedFlags(doc).length;
  if (open === 0) return null;
  return `${open === 1 ? "1 possible identifying detail is" : `${open} possible identifying details are`} still open in this entry. Edit or keep ${open === 1 ? "it" : "each"} in the entry before sharing any of it.`;
}

/** Why a supervisor may not read the entry, or null if they may: their copy
 * holds the whole entry, its notes included, so those are checked too. */
export function supervisionBlocked(doc: EntryDoc): string | null {
  const blocked = shareBlocked(doc);
  if (blocked) return blocked;
  const kept = doc.dismissedFlags ?? [];
  const flagged = doc.notes.filter((note) => openFlags(`${note.text}\n${note.transcript ?? ""}`, kept).length > 0).length;
  if (flagged === 0) return null;
  return `${flagged === 1 ? "1 note has" : `${flagged} notes have`} possible identifying details. A supervisor reads the whole entry, notes included: edit ${flagged === 1 ? "it" : "them"} before sharing.`;
}

/** Whether one part of the entry can be shown, and why not. */
export function partProblem(doc: EntryDoc, part: SharePart): string | null {
  if (!doc[part].trim()) return "Nothing written here yet.";
  return openFlags(doc[part], doc.dismissedFlags ?? []).length > 0 ? "Has possible identifying details to edit or keep first." : null;
}

/** What the conversation is called: the entry's title, unless it is flagged. */
export function topicOf(doc: EntryDoc): string {
  const title = summarize(doc).title;
  return openFlags(title, doc.dismissedFlags ?? []).length === 0 ? title : "A piece of CPD";
}

/** A role label is required, and is a role, not a name. */
export function roleProblem(role: string): string | null {
  if (!role.trim()) return "Give your professional role.";
  return openFlags(role).length > 0 ? "That looks like it may identify someone: give a role, such as “Senior practitioner”, never a name." : null;
}

/** The peer's own CPD entry from a conversation: the discussion as notes
 * (each marked with its writer's role, or "Me"), and a peer reflection with
 * the other side's role, ready to write. */
export function entryFromConversation(conversation: ConversationDoc, userId: string, device: string, now: number): EntryDoc {
  const others = Object.entries(conversation.roles).filter(([id]) => id !== userId);
  const peerRole = others.find(([id]) => id === conversation.ownerId)?.[1] ?? others[0]?.[1] ?? "";
  const said = conversation.contributions.map((contribution) => `${contribution.authorId === userId ? "Me" : contribution.role || "Peer"}: ${contribution.text}`);
  const shown = [conversation.shown.description, conversation.shown.learning].filter((text): text is string => !!text);
  const texts = [`Peer conversation: ${conversation.topic}`, ...(shown.length > 0 ? [`What they shared: ${shown.join("\n\n")}`] : []), ...said];
  const notes = texts.map((text, index) => newNote(crypto.randomUUID(), device, text, now + index));
  const first = conversation.contributions[0]?.createdAt ?? now;
  return {
    ...newDraft(notes[0]),
    notes,
    title: `Peer conversation: ${conversation.topic}`,
    activityType: "Peer learning, group supervision or team discussion",
    activityDate: ukDateOf(new Date(first)),
    peerReflection: { peerRole, discussedOn: ukDateOf(new Date(first)), text: "" },
  };
}

/** A member's own CPD entry from a group session, to link to it: what was
 * discussed as notes (by role, or "Me"), and a peer reflection with the
 * other members' roles and the session's day, ready to write. */
export function entryFromSession(group: GroupDoc, session: GroupSession, userId: string, device: string, now: number): EntryDoc {
  const said = session.discussed.map((contribution) => `${contribution.authorId === userId ? "Me" : contribution.role || "Peer"}: ${contribution.text}`);
  const texts = [`Peer learning group session: ${session.topic}`, ...said];
  const notes = texts.map((text, index) => newNote(crypto.randomUUID(), device, text, now + index));
  const roles = [...new Set(Object.entries(group.roles).filter(([id]) => id !== userId).map(([, role]) => role.trim()).filter(Boolean))];
  return {
    ...newDraft(notes[0]),
    notes,
    title: `Peer learning group: ${session.topic}`,
    activityType: "Peer learning, group supervision or team discussion",
    activityDate: session.date,
    peerReflection: { peerRole: roles.length > 0 ? `Peer learning group (${roles.join(", ")})` : "Peer learning group", discussedOn: session.date, text: "" },
  };
}
