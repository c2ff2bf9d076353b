// Merges worth a second look. Automerge merges offline edits from two devices
// correctly, but silently: a text field changed on both sides can read oddly,
// and for a single choice one side's value quietly wins. This module finds
// them so the UI can say so:
//
// - Text fields changed on two devices while apart are found when the merge
//   happens (`concurrentEdits`) and recorded in the entry (`mergeMarks`), so
//   every device shows the mark and a dismissal on one clears it on all. The
//   mark keeps each side's heads, so each side's text as it was before the
//   merge can be shown from a view of the document at those heads.
// - Single choices set differently on two devices are kept by Automerge as
//   conflicting values (`getConflicts`) until one is written again; they are
//   read live, so choosing one resolves it on every device.
//
// Sequential edits from two devices are neither: one side had seen the other's
// changes, so the merge only moves forward and no value conflicts.

import { diff, getChangesMetaSince, getConflicts, getHeads, inspectChange, view, type ChangeMetadata, type Doc, type Heads, type Patch } from "@automerge/automerge/slim";
import type { EntryTextField } from "./drafts";
import type { EntryDoc, MergeMark, MergeSide } from "./schema";

/** Who makes a change, written into every change's message (see DraftStore). */
export interface Author {
  deviceId: string;
  device: string;
}

/** Text fields whose concurrent edits are marked. */
export const MERGED_TEXT_FIELDS: readonly EntryTextField[] = ["title", "description", "learning", "impact", "peerReflection.text"];

/** Single choices (replaced whole) whose conflicting values are offered. */
export type ChoiceField = "activityType" | "activityDate" | "peerReflection.peerRole" | "peerReflection.discussedOn";
export const CHOICE_FIELDS: readonly ChoiceField[] = ["activityType", "activityDate", "peerReflection.peerRole", "peerReflection.discussedOn"];

/** One side's text of a marked field, as it was before the merge. */
export interface MergeVersion {
  /** The device's name, or "" if no change said. */
  device: string;
  thisDevice: boolean;
  text: string;
}

/** A text field changed on two devices while apart. */
export interface TextMerge {
  field: EntryTextField;
  versions: MergeVersion[];
}

/** A single choice set differently on two devices while apart. */
export interface ChoiceConflict {
  field: ChoiceField;
  /** Each distinct value, with the device that chose it. */
  options: { value: string | null; device: string; thisDevice: boolean }[];
}

export interface EntryMerges {
  texts: TextMerge[];
  choices: ChoiceConflict[];
}

export const NO_MERGES: EntryMerges = { texts: [], choices: [] };

export function authorMessage(author: Author): string {
  return JSON.stringify(author);
}

function authorFrom(message: string | null | undefined): Author | null {
  if (!message) return null;
  try {
    const parsed = JSON.parse(message) as Partial<Author>;
    return typeof parsed.deviceId === "string" && typeof parsed.device === "string" ? { deviceId: parsed.deviceId, device: parsed.device } : null;
  } catch {
    return null;
  }
}

/** How far back to look for a change that names its device (the server's
 * transcript changes, and changes from before authors were recorded, do not). */
const AUTHOR_SEARCH_LIMIT = 200;

/** The author of the latest change at `heads` that names one. */
function authorAt(doc: Doc<unknown>, heads: Heads): Author | null {
  const queue = [...heads];
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < AUTHOR_SEARCH_LIMIT) {
    const hash = queue.shift()!;
    if (seen.has(hash)) continue;
    seen.add(hash);
    const change = inspectChange(doc, hash);
    if (!change) continue;
    const author = authorFrom(change.message);
    if (author) return author;
    queue.push(...change.deps);
  }
  return null;
}

export function textOf(doc: EntryDoc, field: EntryTextField): string {
  const value = field === "peerReflection.text" ? doc.peerReflection?.text : doc[field];
  return typeof value === "string" ? value : "";
}

function textFieldsIn(patches: Patch[]): Set<EntryTextField> {
  const fields = new Set<EntryTextField>();
  for (const { path } of patches) {
    const field = path[0] === "peerReflection" && path[1] === "text" ? "peerReflection.text" : path[0];
    if ((MERGED_TEXT_FIELDS as readonly unknown[]).includes(field)) fields.add(field as EntryTextField);
  }
  return fields;
}

/**
 * The text fields that `before` (this device's document) and the changes
 * merged into it to give `after` both changed, each with the two sides' heads
 * and authors. Empty for a local change or any merge that only moves forward.
 */
export function concurrentEdits(before: Doc<EntryDoc>, after: Doc<EntryDoc>): Record<string, MergeMark> {
  const beforeHeads = getHeads(before);
  const afterHeads = getHeads(after);
  if (beforeHeads.length === 0) return {}; // Loaded, not merged.
  const arrived = getChangesMetaSince(after, beforeHeads);
  // This device's heads that nothing arriving builds on: the changes it made
  // (or had) that the other side had not seen.
  const seenByOther = new Set(arrived.flatMap((change) => change.deps));
  const local = beforeHeads.filter((hash) => !seenByOther.has(hash));
  if (local.length === 0 || arrived.length === 0) return {};
  const remote = afterHeads.filter((hash) => !beforeHeads.includes(hash));
  // What the other side changed, from this side's point of view, and back.
  const changedThere = textFieldsIn(diff(after, local, afterHeads));
  const changedHere = textFieldsIn(diff(after, remote, afterHeads));
  const both = [...changedThere].filter((field) => changedHere.has(field));
  if (both.length === 0) return {};

  const here = view(after, local);
  const there = view(after, remote);
  const sides: [MergeSide, MergeSide] = [side(after, local), side(after, remote)];
  if (sides[0].deviceId !== "" && sides[0].deviceId === sides[1].deviceId) return {}; // Two tabs of one device.
  // Both devices may find the same merge at once: the same mark from each.
  sides.sort((a, b) => (a.deviceId + a.heads.join()).localeCompare(b.deviceId + b.heads.join()));
  const marks: Record<string, MergeMark> = {};
  for (const field of both) {
    if (textOf(here, field) !== textOf(there, field)) marks[field] = { sides };
  }
  return marks;
}

function side(doc: Doc<EntryDoc>, heads: Heads): MergeSide {
  const author = authorAt(doc, heads);
  return { deviceId: author?.deviceId ?? "", device: author?.device ?? "", heads: [...heads].sort() };
}

function isMark(value: unknown): value is MergeMark {
  const sides = (value as MergeMark | null)?.sides;
  return (
    Array.isArray(sides) &&
    sides.length === 2 &&
    sides.every((s) => typeof s?.device === "string" && typeof s.deviceId === "string" && Array.isArray(s.heads) && s.heads.length > 0 && s.heads.every((h) => typeof h === "string"))
  );
}

/** Each side's text of a marked field. Heads never change, so neither does this. */
const versionTexts = new Map<string, string>();
const VERSION_CACHE_LIMIT = 200;

function versionText(doc: Doc<EntryDoc>, field: EntryTextField, heads: string[]): string | null {
  const key = `${field}|${heads.join(",")}`;
  let text = versionTexts.get(key);
  if (text === undefined) {
    try {
      text = textOf(view(doc, heads), field);
    } catch {
      return null; // Heads this device does not have (a mark ahead of its changes).
    }
    if (versionTexts.size >= VERSION_CACHE_LIMIT) versionTexts.clear();
    versionTexts.set(key, text);
  }
  return text;
}

/** Changes' metadata by actor, to find who made a conflicting value. */
const changesByDoc = new WeakMap<object, Map<string, ChangeMetadata[]>>();

function authorOfOp(doc: Doc<EntryDoc>, opId: string): Author | null {
  const [counter, actor] = opId.split("@");
  let byActor = changesByDoc.get(doc);
  if (!byActor) {
    byActor = new Map();
    for (const change of getChangesMetaSince(doc, [])) {
      const list = byActor.get(change.actor) ?? [];
      list.push(change);
      byActor.set(change.actor, list);
    }
    changesByDoc.set(doc, byActor);
  }
  const op = Number(counter);
  const change = byActor.get(actor)?.find((c) => c.startOp <= op && op <= c.maxOp);
  return authorFrom(change?.message) ?? (change ? authorAt(doc, [change.hash]) : null);
}

function choiceConflict(doc: Doc<EntryDoc>, field: ChoiceField, thisDevice: string): ChoiceConflict | null {
  const [container, key] = field === "activityType" || field === "activityDate" ? [doc, field] : [doc.peerReflection, field.slice("peerReflection.".length)];
  if (!container) return null;
  const conflicts = getConflicts(container as Doc<unknown>, key);
  if (!conflicts) return null;
  const options: ChoiceConflict["options"] = [];
  for (const [opId, raw] of Object.entries(conflicts)) {
    const value = typeof raw === "string" ? raw : null;
    if (options.some((option) => option.value === value)) continue;
    const author = authorOfOp(doc, opId);
    options.push({ value, device: author?.device ?? "", thisDevice: author !== null && author.deviceId === thisDevice });
  }
  return options.length > 1 ? { field, options } : null;
}

/** What the UI shows for one entry: marked text fields and open choices. */
export function entryMerges(doc: Doc<EntryDoc>, thisDevice: string): EntryMerges {
  const texts: TextMerge[] = [];
  for (const [field, mark] of Object.entries(doc.mergeMarks ?? {})) {
    if (!(MERGED_TEXT_FIELDS as readonly string[]).includes(field) || !isMark(mark)) continue;
    const versions: MergeVersion[] = [];
    for (const s of mark.sides) {
      const text = versionText(doc, field as EntryTextField, [...s.heads]);
      if (text !== null) versions.push({ device: s.device, thisDevice: s.deviceId !== "" && s.deviceId === thisDevice, text });
    }
    if (versions.length === 2) texts.push({ field: field as EntryTextField, versions });
  }
  const choices = CHOICE_FIELDS.map((field) => choiceConflict(doc, field, thisDevice)).filter((c): c is ChoiceConflict => c !== null);
  return texts.length === 0 && choices.length === 0 ? NO_MERGES : { texts, choices };
}

/** Records marks found by `concurrentEdits`, inside a change. One already
 * there is left alone, so recording it again makes no change. */
export function recordMarks(doc: EntryDoc, marks: Record<string, MergeMark>): void {
  for (const [field, mark] of Object.entries(marks)) {
    const existing = doc.mergeMarks?.[field];
    if (existing && JSON.stringify(existing) === JSON.stringify(mark)) continue;
    doc.mergeMarks ??= {};
    doc.mergeMarks[field] = structuredClone(mark);
  }
}
