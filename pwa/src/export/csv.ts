// CSV of chosen entries, for a spreadsheet: RFC 4180 (every field quoted when
// it needs to be, quotes doubled, CRLF between records), UTF-8 with a byte
// order mark so Excel reads accents and dashes right. Pure: no DOM.

import { SWE_LABELS, PEER_LABELS, tagName } from "../cpd/rules";
import { isIsoDate, registrationYearOf } from "../cpd/year";
import type { EntryDoc } from "../sync/schema";
import { noteTexts, STATUS_NAMES, sweFieldText } from "./text";

export const CSV_MIME_TYPE = "text/csv;charset=utf-8";
const BOM = "\ufeff";

/** One entry to export, with its document id when it has one. */
export interface ExportItem {
  id?: string;
  entry: EntryDoc;
}

export interface CsvColumn {
  header: string;
  value: (item: ExportItem) => string;
}

function isoDay(time: number | null): string {
  if (time === null || !Number.isFinite(time)) return "";
  return new Date(time).toISOString().slice(0, 10);
}

function isoTime(time: number | null): string {
  if (time === null || !Number.isFinite(time)) return "";
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The columns: SWE's fields under SWE's labels, then status, tags and times. Dates are YYYY-MM-DD. */
export const CSV_COLUMNS: readonly CsvColumn[] = [
  { header: "Title", value: ({ entry }) => sweFieldText(entry.title) },
  { header: "Registration year", value: ({ entry }) => registrationYearOf(entry.activityDate)?.label ?? "" },
  { header: SWE_LABELS.activityType, value: ({ entry }) => sweFieldText(entry.activityType) },
  { header: SWE_LABELS.activityDate, value: ({ entry }) => (isIsoDate(entry.activityDate) ? entry.activityDate : "") },
  { header: SWE_LABELS.description, value: ({ entry }) => sweFieldText(entry.description) },
  { header: SWE_LABELS.learning, value: ({ entry }) => sweFieldText(entry.learning) },
  { header: SWE_LABELS.impact, value: ({ entry }) => sweFieldText(entry.impact) },
  { header: PEER_LABELS["peerReflection.peerRole"], value: ({ entry }) => sweFieldText(entry.peerReflection?.peerRole) },
  { header: PEER_LABELS["peerReflection.discussedOn"], value: ({ entry }) => (isIsoDate(entry.peerReflection?.discussedOn) ? entry.peerReflection!.discussedOn! : "") },
  { header: PEER_LABELS["peerReflection.text"], value: ({ entry }) => sweFieldText(entry.peerReflection?.text) },
  { header: "Status", value: ({ entry }) => STATUS_NAMES[entry.status] ?? entry.status },
  { header: "Recorded on SWE", value: ({ entry }) => (entry.status === "recorded" ? isoDay(entry.recordedOnSweAt) : "") },
  { header: "SWE standards", value: ({ entry }) => (entry.standards ?? []).map((id) => tagName("standards", id)).join("; ") },
  { header: "PCF domains", value: ({ entry }) => (entry.pcf ?? []).map((id) => tagName("pcf", id)).join("; ") },
  { header: "Tags", value: ({ entry }) => (entry.tags ?? []).join("; ") },
  { header: "Notes", value: ({ entry }) => noteTexts(entry).join("\n\n") },
  { header: "Created", value: ({ entry }) => isoTime(entry.createdAt) },
  { header: "Last changed", value: ({ entry }) => isoTime(entry.updatedAt) },
  { header: "Fieldbook id", value: ({ id }) => id ?? "" },
];

/**
 * Spreadsheets run a cell that starts with =, +, -, @ (or a tab or carriage
 * return) as a formula: "- met the family" would show as an error, and a
 * crafted one could do harm. Such cells get a leading apostrophe, as OWASP
 * advises; `unguardCell` takes it off again.
 */
export function guardCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** Undoes guardCell. */
export function unguardCell(value: string): string {
  return /^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}

/** One field per RFC 4180: quoted if it holds a comma, quote, CR or LF (or starts/ends with a space), quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Rows as CSV text: CRLF after every record, no byte order mark. */
export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => `${row.map(csvField).join(",")}\r\n`).join("");
}

export interface CsvOptions {
  /** Leave out the byte order mark (Excel needs it to read UTF-8; other tools do not). */
  bom?: boolean;
  /** Guard cells against being run as formulas (default true). */
  guardFormulas?: boolean;
}

/** Chosen entries as a CSV file's text: a header row, then one row per entry in the order given. */
export function entriesToCsv(items: readonly ExportItem[], options: CsvOptions = {}): string {
  const guard = options.guardFormulas ?? true;
  const rows = [
    CSV_COLUMNS.map((column) => column.header),
    ...items.map((item) => CSV_COLUMNS.map((column) => (guard ? guardCell(column.value(item)) : column.value(item)))),
  ];
  return (options.bom ?? true ? BOM : "") + toCsv(rows);
}

/**
 * Parses CSV (RFC 4180, also LF-only line ends and a byte order mark) into
 * rows of fields. Throws a SyntaxError for a quote left open or stray text
 * after a closing quote.
 */
export function parseCsv(text: string): string[][] {
  const input = text.startsWith(BOM) ? text.slice(1) : text;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  let line = 1;
  const endField = () => {
    row.push(field);
    field = "";
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  while (i < input.length) {
    const c = input[i];
    if (quoted) {
      if (c === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = input[i];
        if (next !== undefined && next !== "," && next !== "\r" && next !== "\n") {
          throw new SyntaxError(`CSV line ${line}: unexpected text after a closing quote`);
        }
        continue;
      }
      if (c === "\n") line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === "") {
      quoted = true;
      i++;
    } else if (c === ",") {
      endField();
      i++;
    } else if (c === "\r" || c === "\n") {
      endRow();
      line++;
      i += c === "\r" && input[i + 1] === "\n" ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new SyntaxError(`CSV line ${line}: a quoted field is never closed`);
  // A last record without a line break still counts; a final line break does not start one.
  if (field !== "" || row.length > 0) endRow();
  return rows;
}

/** A file name such as "fieldbook-cpd-2025-26.csv" (ASCII, so every system takes it). */
export function exportFileName(extension: string, yearLabel?: string, date?: string): string {
  const part = yearLabel ? `-${yearLabel.replace(/[–—]/g, "-")}` : date ? `-${date}` : "";
  return `fieldbook-cpd${part}.${extension}`;
}
