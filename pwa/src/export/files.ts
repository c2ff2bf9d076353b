// One place that turns chosen entries into a file to download: name, type
// and contents. The PDF writer and its fonts are loaded only when a PDF is
// asked for, so they never weigh on the app's first load. Pure: no DOM (the
// screen makes the Blob and the download link).

import type { RegistrationYear } from "../cpd/year";
import { ukDateOf } from "../cpd/year";
import type { EntryDoc } from "../sync/schema";
import { CSV_MIME_TYPE, entriesToCsv, exportFileName } from "./csv";
import { ICS_MIME_TYPE, remindersIcs } from "./ics";
import { exportJson, JSON_MIME_TYPE } from "./json";
import { entryAsText } from "./text";

export type ExportKind = "pdf" | "csv" | "json" | "txt";

export interface ExportFile {
  fileName: string;
  mimeType: string;
  data: string | Uint8Array;
}

export interface ExportRequest {
  kind: ExportKind;
  entries: readonly { id?: string; entry: EntryDoc }[];
  /** The registration year, for the file name and the PDF's title page. */
  year?: RegistrationYear | null;
  now: Date;
  /** Whose portfolio it is, for the PDF's title page (the account's settings). */
  owner?: { name?: string; registrationNumber?: string };
  /** Add captured notes to the PDF. */
  includeNotes?: boolean;
}

const TEXT_MIME_TYPE = "text/plain;charset=utf-8";

/** Chosen entries as a file. */
export async function exportFile(request: ExportRequest): Promise<ExportFile> {
  const fileName = exportFileName(request.kind, request.year?.label, request.year ? undefined : ukDateOf(request.now));
  switch (request.kind) {
    case "pdf": {
      const [{ portfolioPdf, PDF_MIME_TYPE }, { loadPdfFonts }] = await Promise.all([import("./pdf"), import("./pdf-fonts")]);
      const fonts = await loadPdfFonts();
      const data = await portfolioPdf({ entries: request.entries, year: request.year, owner: request.owner, now: request.now, includeNotes: request.includeNotes }, fonts);
      return { fileName, mimeType: PDF_MIME_TYPE, data };
    }
    case "csv":
      return { fileName, mimeType: CSV_MIME_TYPE, data: entriesToCsv(request.entries) };
    case "json":
      return { fileName, mimeType: JSON_MIME_TYPE, data: exportJson(request.entries, request.now) };
    case "txt":
      // CRLF so Notepad shows the lines too; a byte order mark so it knows it is UTF-8.
      return { fileName, mimeType: TEXT_MIME_TYPE, data: `\ufeff${request.entries.map((item) => entryAsText(item.entry)).join("\n\n----------\n\n").replace(/\n/g, "\r\n")}\r\n` };
  }
}

/** The reminders calendar for a year as a file. */
export function remindersFile(year: RegistrationYear, now: Date, appUrl?: string): ExportFile {
  return { fileName: `fieldbook-reminders-${year.label.replace("–", "-")}.ics`, mimeType: ICS_MIME_TYPE, data: remindersIcs({ year, now, appUrl }) };
}
