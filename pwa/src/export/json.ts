// Everything, as JSON: every entry with all its fields and notes, under a
// format name and version, so the user owns their data and can bring it back.
// `parseExport` checks a file field by field and says exactly what is wrong.
// Pure: no DOM, no Automerge.

import { isIsoDate } from "../cpd/year";
import { ENTRY_SCHEMA_VERSION, ENTRY_TYPE, type EntryDoc, type EntryStatus, type Evidence, type Note, type PeerReflection } from "../sync/schema";

export const EXPORT_FORMAT = "fieldbook-export";
export const EXPORT_FORMAT_VERSION = 1;
export const JSON_MIME_TYPE = "application/json";

export interface ExportedEntry {
  /** The entry's document id on the devices it came from, if known. */
  id?: string;
  entry: EntryDoc;
}

export interface FieldbookExport {
  format: typeof EXPORT_FORMAT;
  formatVersion: number;
  /** When the file was made, ISO 8601 in UTC. */
  exportedAt: string;
  entries: ExportedEntry[];
}

/** Why a file cannot be imported; `path` says where ("entries[2].entry.learning"). */
export class ExportFormatError extends Error {
  constructor(
    message: string,
    readonly path: string = "",
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = "ExportFormatError";
  }
}

/** A deep copy of an entry with exactly the schema's fields (Automerge proxies and extra keys left behind). */
export function plainEntry(entry: EntryDoc): EntryDoc {
  return {
    type: ENTRY_TYPE,
    schemaVersion: entry.schemaVersion,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
    status: entry.status,
    recordedOnSweAt: entry.recordedOnSweAt ?? null,
    title: String(entry.title ?? ""),
    // A half-typed year stored before dates were checked is no date: import would refuse it.
    activityDate: isIsoDate(entry.activityDate) ? entry.activityDate : null,
    activityType: entry.activityType === null || entry.activityType === undefined ? null : String(entry.activityType),
    description: String(entry.description ?? ""),
    learning: String(entry.learning ?? ""),
    impact: String(entry.impact ?? ""),
    peerReflection: entry.peerReflection
      ? { peerRole: String(entry.peerReflection.peerRole ?? ""), discussedOn: isIsoDate(entry.peerReflection.discussedOn) ? entry.peerReflection.discussedOn : null, text: String(entry.peerReflection.text ?? "") }
      : null,
    standards: [...(entry.standards ?? [])].map(String),
    pcf: [...(entry.pcf ?? [])].map(String),
    tags: [...(entry.tags ?? [])].map(String),
    notes: (entry.notes ?? []).map((note) => ({
      id: String(note.id),
      createdAt: note.createdAt,
      device: String(note.device ?? ""),
      kind: note.kind,
      text: String(note.text ?? ""),
      audio: note.audio === null || note.audio === undefined ? null : String(note.audio),
      transcript: note.transcript === null || note.transcript === undefined ? null : String(note.transcript),
    })),
    dismissedFlags: [...(entry.dismissedFlags ?? [])].map(String),
    evidence: (entry.evidence ?? []).map((file) => ({
      id: String(file.id),
      name: String(file.name),
      mimeType: String(file.mimeType),
      size: file.size,
      addedAt: file.addedAt,
    })),
    // Merge marks point into this document's history, which a copy does not have.
    mergeMarks: {},
  };
}

/** Entries as an export object. */
export function buildExport(items: readonly ExportedEntry[], now: Date): FieldbookExport {
  return {
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    exportedAt: now.toISOString(),
    entries: items.map((item) => (item.id === undefined ? { entry: plainEntry(item.entry) } : { id: item.id, entry: plainEntry(item.entry) })),
  };
}

/** Entries as the text of a .json file (indented, so it is readable too). */
export function exportJson(items: readonly ExportedEntry[], now: Date): string {
  return `${JSON.stringify(buildExport(items, now), null, 2)}\n`;
}

// --- Reading a file back ------------------------------------------------------------

type Json = unknown;

function describe(value: Json): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return value.length > 30 ? `the text "${value.slice(0, 27)}…"` : `the text ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function object(value: Json, path: string): Record<string, Json> {
  if (!isObject(value)) throw new ExportFormatError(`expected an object, found ${describe(value)}`, path);
  return value;
}

function text(value: Json, path: string): string {
  if (typeof value !== "string") throw new ExportFormatError(`expected text, found ${describe(value)}`, path);
  return value;
}

function textOrNull(value: Json, path: string): string | null {
  return value === null || value === undefined ? null : text(value, path);
}

function time(value: Json, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 8.64e15) {
    throw new ExportFormatError(`expected a time in milliseconds, found ${describe(value)}`, path);
  }
  return value;
}

function timeOrNull(value: Json, path: string): number | null {
  return value === null || value === undefined ? null : time(value, path);
}

function dateOrNull(value: Json, path: string): string | null {
  if (value === null || value === undefined) return null;
  if (!isIsoDate(value)) throw new ExportFormatError(`expected a date written YYYY-MM-DD, or null, found ${describe(value)}`, path);
  return value;
}

function textList(value: Json, path: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ExportFormatError(`expected a list of texts, found ${describe(value)}`, path);
  return value.map((item, i) => text(item, `${path}[${i}]`));
}

const STATUSES: readonly EntryStatus[] = ["draft", "ready", "recorded"];

function peer(value: Json, path: string): PeerReflection | null {
  if (value === null || value === undefined) return null;
  const p = object(value, path);
  return { peerRole: text(p.peerRole ?? "", `${path}.peerRole`), discussedOn: dateOrNull(p.discussedOn, `${path}.discussedOn`), text: text(p.text ?? "", `${path}.text`) };
}

function note(value: Json, path: string): Note {
  const n = object(value, path);
  const id = text(n.id, `${path}.id`);
  if (id === "") throw new ExportFormatError("a note needs an id", `${path}.id`);
  if (n.kind !== "text" && n.kind !== "voice") throw new ExportFormatError(`expected "text" or "voice", found ${describe(n.kind)}`, `${path}.kind`);
  return {
    id,
    createdAt: time(n.createdAt, `${path}.createdAt`),
    device: text(n.device ?? "", `${path}.device`),
    kind: n.kind,
    text: text(n.text ?? "", `${path}.text`),
    audio: textOrNull(n.audio, `${path}.audio`),
    transcript: textOrNull(n.transcript, `${path}.transcript`),
  };
}

/** An evidence file's listing (the file itself is on the server, not in the export). */
function evidenceItem(value: Json, path: string): Evidence {
  const f = object(value, path);
  const id = text(f.id, `${path}.id`);
  if (id === "") throw new ExportFormatError("an evidence file needs an id", `${path}.id`);
  const size = f.size;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 0) throw new ExportFormatError(`expected a size in bytes, found ${describe(size)}`, `${path}.size`);
  return { id, name: text(f.name, `${path}.name`), mimeType: text(f.mimeType, `${path}.mimeType`), size, addedAt: time(f.addedAt, `${path}.addedAt`) };
}

/** Checks one entry document and returns it with exactly the schema's fields. */
export function parseEntry(value: Json, path = "entry"): EntryDoc {
  const e = object(value, path);
  if (e.type !== ENTRY_TYPE) throw new ExportFormatError(`expected "${ENTRY_TYPE}", found ${describe(e.type)}`, `${path}.type`);
  const schemaVersion = e.schemaVersion;
  if (typeof schemaVersion !== "number" || !Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new ExportFormatError(`expected a schema version number, found ${describe(schemaVersion)}`, `${path}.schemaVersion`);
  }
  if (schemaVersion > ENTRY_SCHEMA_VERSION) {
    throw new ExportFormatError(`this entry was made by a newer version of Fieldbook (schema ${schemaVersion}); update the app and try again`, `${path}.schemaVersion`);
  }
  if (!STATUSES.includes(e.status as EntryStatus)) {
    throw new ExportFormatError(`expected "draft", "ready" or "recorded", found ${describe(e.status)}`, `${path}.status`);
  }
  if (e.notes !== undefined && !Array.isArray(e.notes)) throw new ExportFormatError(`expected a list of notes, found ${describe(e.notes)}`, `${path}.notes`);
  const notes = ((e.notes as Json[] | undefined) ?? []).map((n, i) => note(n, `${path}.notes[${i}]`));
  const ids = new Set<string>();
  notes.forEach((n, i) => {
    if (ids.has(n.id)) throw new ExportFormatError(`two notes have the id ${JSON.stringify(n.id)}`, `${path}.notes[${i}].id`);
    ids.add(n.id);
  });
  return {
    type: ENTRY_TYPE,
    schemaVersion,
    createdAt: time(e.createdAt, `${path}.createdAt`),
    updatedAt: time(e.updatedAt, `${path}.updatedAt`),
    status: e.status as EntryStatus,
    recordedOnSweAt: timeOrNull(e.recordedOnSweAt, `${path}.recordedOnSweAt`),
    title: text(e.title ?? "", `${path}.title`),
    activityDate: dateOrNull(e.activityDate, `${path}.activityDate`),
    activityType: textOrNull(e.activityType, `${path}.activityType`),
    description: text(e.description ?? "", `${path}.description`),
    learning: text(e.learning ?? "", `${path}.learning`),
    impact: text(e.impact ?? "", `${path}.impact`),
    peerReflection: peer(e.peerReflection, `${path}.peerReflection`),
    standards: textList(e.standards, `${path}.standards`),
    pcf: textList(e.pcf, `${path}.pcf`),
    tags: textList(e.tags, `${path}.tags`),
    notes,
    dismissedFlags: textList(e.dismissedFlags, `${path}.dismissedFlags`),
    evidence: evidenceList(e.evidence, `${path}.evidence`),
    mergeMarks: {},
  };
}

function evidenceList(value: Json, path: string): Evidence[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ExportFormatError(`expected a list of evidence files, found ${describe(value)}`, path);
  return value.map((item, i) => evidenceItem(item, `${path}[${i}]`));
}

/**
 * Reads a Fieldbook JSON export. Returns its entries, checked and with exactly
 * the schema's fields, ready to import; throws an ExportFormatError saying
 * what is wrong and where for anything else.
 */
export function parseExport(source: string): FieldbookExport {
  let data: Json;
  try {
    data = JSON.parse(source.startsWith("\ufeff") ? source.slice(1) : source);
  } catch (error) {
    throw new ExportFormatError(`This is not a JSON file (${(error as Error).message}).`);
  }
  if (!isObject(data)) throw new ExportFormatError(`This is not a Fieldbook export: expected an object, found ${describe(data)}.`);
  if (data.format !== EXPORT_FORMAT) throw new ExportFormatError(`This is not a Fieldbook export (its "format" is ${describe(data.format)}).`);
  const version = data.formatVersion;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
    throw new ExportFormatError(`expected a format version number, found ${describe(version)}`, "formatVersion");
  }
  if (version > EXPORT_FORMAT_VERSION) {
    throw new ExportFormatError(`This file was made by a newer version of Fieldbook (format ${version}); update the app and try again.`);
  }
  const exportedAt = text(data.exportedAt, "exportedAt");
  if (Number.isNaN(Date.parse(exportedAt))) throw new ExportFormatError(`expected a date and time, found ${describe(exportedAt)}`, "exportedAt");
  if (!Array.isArray(data.entries)) throw new ExportFormatError(`expected a list of entries, found ${describe(data.entries)}`, "entries");
  const ids = new Set<string>();
  const entries = data.entries.map((item: Json, i: number): ExportedEntry => {
    const path = `entries[${i}]`;
    const wrapper = object(item, path);
    const entry = parseEntry(wrapper.entry, `${path}.entry`);
    if (wrapper.id === undefined || wrapper.id === null) return { entry };
    const id = text(wrapper.id, `${path}.id`);
    if (ids.has(id)) throw new ExportFormatError(`two entries have the id ${JSON.stringify(id)}`, `${path}.id`);
    ids.add(id);
    return { id, entry };
  });
  return { format: EXPORT_FORMAT, formatVersion: version, exportedAt, entries };
}
