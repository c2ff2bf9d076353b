// Copy-ready text for SWE's form. SWE has no import: the user copies each
// field into SWE's site, which takes plain text. So: no markdown, no control
// or invisible characters, tidy white space, dates as SWE writes them, and a
// character count for each field. Pure: no DOM, no Automerge.

import { PEER_LABELS, PEER_QUESTION, peerReflectionState, SWE_LABELS, type PeerField, type SweField } from "../cpd/rules";
import { isIsoDate } from "../cpd/year";
import type { EntryDoc } from "../sync/schema";

/** Statuses in words, for exports. */
export const STATUS_NAMES: Record<EntryDoc["status"], string> = {
  draft: "Draft",
  ready: "Ready for SWE",
  recorded: "Recorded on SWE",
};

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** A date as SWE's form shows it: "10/03/2026" (day/month/year). Anything not a date gives "". */
export function sweDate(date: string | null | undefined): string {
  if (!isIsoDate(date)) return "";
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}

/** A date for reading: "10 March 2026". Anything not a date gives "". */
export function longDate(date: string | null | undefined): string {
  if (!isIsoDate(date)) return "";
  return `${Number(date.slice(8, 10))} ${MONTHS[Number(date.slice(5, 7)) - 1]} ${date.slice(0, 4)}`;
}

/**
 * A text field as SWE's form takes it: plain text, Unicode NFC, line breaks
 * as "\n", spaces collapsed, at most one blank line between paragraphs,
 * markdown emphasis and heading marks removed, invisible and control
 * characters dropped, trimmed. Bullets ("- ", "• ") and numbering are kept:
 * they read well as plain text.
 */
export function sweFieldText(text: string | null | undefined): string {
  if (!text) return "";
  return (
    text
      .normalize("NFC")
      .replace(/\r\n?|[\u2028\u2029\u0085\v\f]/g, "\n")
      // Non-breaking and other wide spaces become plain spaces.
      .replace(/[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t]/g, " ")
      // Zero-width characters, byte-order marks, soft hyphens and other controls.
      .replace(/[\u200b-\u200d\u2060\ufeff\u00ad\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f]/g, "")
      .split("\n")
      .map((line) =>
        line
          .replace(/^\s{0,3}#{1,6}\s+/, "") // "## Heading"
          .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, "$2") // **bold**, __bold__
          .replace(/(^|[\s(])\*(?=\S)([^*\n]+?)(?<=\S)\*(?=$|[\s).,;:!?])/g, "$1$2") // *italic*
          .replace(/`([^`\n]+)`/g, "$1") // `code`
          .replace(/ {2,}/g, " ")
          .trim(),
      )
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trim()
  );
}

/** The entry's notes as plain text, in the order captured: what was typed, or
 * the transcript of a voice note; empty notes left out. */
export function noteTexts(entry: Pick<EntryDoc, "notes">): string[] {
  return (entry.notes ?? []).map((note) => sweFieldText(note.text || note.transcript || "")).filter(Boolean);
}

/** Characters as a person counts them (code points, so an emoji or "é" is one). */
export function characterCount(text: string): number {
  return Array.from(text).length;
}

export interface FieldText {
  field: SweField | PeerField;
  /** SWE's label for the field. */
  label: string;
  /** Copy-ready text ("" when the field is empty). */
  text: string;
  /** Characters in `text`. */
  characters: number;
}

function item(field: SweField | PeerField, text: string): FieldText {
  const label = field.startsWith("peerReflection.") ? PEER_LABELS[field as PeerField] : SWE_LABELS[field as SweField];
  return { field, label, text, characters: characterCount(text) };
}

/**
 * Every field of SWE's form for an entry, in SWE's order, copy-ready; then the
 * peer reflection's role, date and text when it has one (started or complete).
 */
export function sweFields(entry: EntryDoc): FieldText[] {
  const fields: FieldText[] = [
    item("activityType", sweFieldText(entry.activityType)),
    item("activityDate", sweDate(entry.activityDate)),
    item("description", sweFieldText(entry.description)),
    item("learning", sweFieldText(entry.learning)),
    item("impact", sweFieldText(entry.impact)),
  ];
  const peer = entry.peerReflection;
  if (peer && peerReflectionState(entry) !== "none") {
    fields.push(
      item("peerReflection.peerRole", sweFieldText(peer.peerRole === "Other" ? "" : peer.peerRole)),
      item("peerReflection.discussedOn", sweDate(peer.discussedOn)),
      item("peerReflection.text", sweFieldText(peer.text)),
    );
  }
  return fields;
}

/**
 * The peer reflection as one block for SWE's single peer box: the peer's role
 * and the date first (SWE asks for the role, never a name), then the text.
 * "" when the entry has no peer reflection.
 */
export function peerReflectionForSwe(entry: EntryDoc): string {
  const peer = entry.peerReflection;
  if (!peer || peerReflectionState(entry) === "none") return "";
  const role = sweFieldText(peer.peerRole === "Other" ? "" : peer.peerRole);
  const date = sweDate(peer.discussedOn);
  const intro = [role && `Discussed with: ${role}`, date && `on ${date}`].filter(Boolean).join(", ");
  const text = sweFieldText(peer.text);
  return [intro && `${intro}.`, text].filter(Boolean).join("\n\n");
}

/** A whole entry as plain text, each SWE label followed by its text: for notes, email or a plain-text export. */
export function entryAsText(entry: EntryDoc): string {
  const blocks: string[] = [];
  const title = sweFieldText(entry.title).replace(/\n/g, " ");
  if (title) blocks.push(title);
  for (const field of sweFields(entry)) {
    if (field.field === "peerReflection.peerRole") blocks.push("Peer reflection");
    const label = field.field === "peerReflection.text" ? PEER_QUESTION : field.label;
    blocks.push(`${label}:\n${field.text || "(not filled in)"}`);
  }
  return blocks.join("\n\n");
}
