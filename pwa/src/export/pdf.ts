// A CPD portfolio as a real PDF file, for supervision and appraisal: a title
// page (whose it is: the name and SWE registration number from the account's
// settings, when set; the registration year, a summary and the contents),
// then each entry on its own page with SWE's labels and texts, wrapped to the
// page, with page numbers.
//
// Load it lazily so it costs nothing on the app's first load:
//   const { portfolioPdf } = await import("../export/pdf");
// Pure apart from CompressionStream (browsers, Node 18+): no DOM, no Automerge.

import { PCF_DOMAINS, PEER_LABELS, PEER_QUESTION, peerReflectionState, SWE_LABELS, SWE_STANDARDS, tagName, yearProgress, type Tag } from "../cpd/rules";
import { isInYear, isIsoDate, registrationYearOf, ukDateOf, type RegistrationYear } from "../cpd/year";
import { typeLabel } from "../evidence/types";
import type { EntryDoc } from "../sync/schema";
import { longDate, noteTexts, STATUS_NAMES, sweFieldText } from "./text";
import type { PdfFonts } from "./pdf-fonts";
import { A4, writePdf, type FontId, type PdfPage } from "./pdf-writer";

export const PDF_MIME_TYPE = "application/pdf";

export interface PortfolioOptions {
  /** The entries, in any order: the portfolio sorts them by CPD date, undated last. */
  entries: readonly { id?: string; entry: EntryDoc }[];
  /** The registration year the portfolio is for; without one it is "chosen entries". */
  year?: RegistrationYear | null;
  /** Whose portfolio it is, for the title page; either may be left out. */
  owner?: { name?: string; registrationNumber?: string };
  /** When it is made: the date on the title page and in the file's details. */
  now: Date;
  /** Add each entry's captured notes after its SWE fields (default false: notes are raw and may identify people). */
  includeNotes?: boolean;
  /** Compress the pages (default true). */
  compress?: boolean;
}

const MARGIN_X = 56.7; // 2 cm
const TOP = A4.height - 62;
const BOTTOM = 62;
const WIDTH = A4.width - 2 * MARGIN_X;

const BODY = 10.5;
const BODY_LEADING = 14.5;
const LABEL = 10;
const GREY = 0.35;

/** Lays text out onto pages, starting new pages as they fill. */
class Layout {
  pages: PdfPage[] = [];
  y = TOP;

  constructor(readonly fonts: PdfFonts) {}

  get page(): PdfPage {
    if (this.pages.length === 0) this.newPage();
    return this.pages[this.pages.length - 1];
  }

  newPage(): void {
    this.pages.push({ texts: [], rules: [] });
    this.y = TOP;
  }

  /** Starts a new page unless `height` more points fit on this one. */
  need(height: number): void {
    if (this.pages.length === 0 || this.y - height < BOTTOM) this.newPage();
  }

  space(points: number): void {
    this.y -= points;
  }

  /**
   * Text wrapped to the width, a line at a time, breaking pages between
   * lines. `keep` lines must stay together on one page at the start.
   */
  text(text: string, font: FontId, size: number, leading: number, options: { grey?: number; indent?: number; keep?: number } = {}): void {
    const indent = options.indent ?? 0;
    const lines = this.fonts.wrap(text, font, size, WIDTH - indent);
    this.need(leading * Math.min(lines.length, options.keep ?? 1));
    for (const line of lines) {
      this.need(leading);
      this.y -= leading;
      if (line) this.page.texts.push({ text: line, x: MARGIN_X + indent, y: this.y + (leading - size) / 2, font, size, grey: options.grey });
    }
  }

  rule(grey = 0.75): void {
    this.page.rules.push({ x1: MARGIN_X, y1: this.y, x2: MARGIN_X + WIDTH, y2: this.y, width: 0.6, grey });
  }
}

/** The owner's name and registration number as the title page shows them, "" when not set. */
function ownerOf(options: PortfolioOptions): { name: string; registrationNumber: string } {
  const oneLine = (text: string | undefined) => sweFieldText(text).replace(/\n/g, " ");
  return { name: oneLine(options.owner?.name), registrationNumber: oneLine(options.owner?.registrationNumber) };
}

/** Tags in their list's order (standards 1, 2, …, 4, 4.1 … 4.8, 5, 6), any the list lacks after them. */
function inListOrder(ids: readonly string[], list: readonly Tag[]): string[] {
  const rank = (id: string) => {
    const at = list.findIndex((tag) => tag.id === id);
    return at < 0 ? list.length : at;
  };
  return [...ids].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, "en", { numeric: true }));
}

function byDate(a: { entry: EntryDoc }, b: { entry: EntryDoc }): number {
  const [da, db] = [a.entry.activityDate, b.entry.activityDate];
  const [va, vb] = [isIsoDate(da), isIsoDate(db)];
  if (va && vb) return da! < db! ? -1 : da! > db! ? 1 : 0;
  return va ? -1 : vb ? 1 : 0;
}

function entryTitle(entry: EntryDoc, index: number): string {
  const title = sweFieldText(entry.title).replace(/\s*\n\s*/g, " ");
  if (title) return title;
  const type = sweFieldText(entry.activityType);
  return type ? `${type}${isIsoDate(entry.activityDate) ? `, ${longDate(entry.activityDate)}` : ""}` : `Entry ${index + 1}`;
}

/** One labelled field: the label in bold, kept with the first lines of its text. */
function field(layout: Layout, label: string, text: string): void {
  layout.need(LABEL * 1.4 + BODY_LEADING * 2 + 8);
  layout.space(8);
  layout.text(label, "bold", LABEL, LABEL * 1.4, { keep: 4 });
  layout.space(2);
  if (text) layout.text(text, "regular", BODY, BODY_LEADING);
  else layout.text("(not filled in)", "italic", BODY, BODY_LEADING, { grey: GREY });
}

function drawEntry(layout: Layout, entry: EntryDoc, title: string, year: RegistrationYear | null | undefined, includeNotes: boolean): void {
  layout.text(title, "bold", 15, 19);
  const meta = [STATUS_NAMES[entry.status] ?? entry.status];
  if (entry.status === "recorded" && entry.recordedOnSweAt !== null) meta[0] += ` on ${longDate(ukDateOf(new Date(entry.recordedOnSweAt)))}`;
  const registration = registrationYearOf(entry.activityDate);
  if (registration) meta.push(`Registration year ${registration.label}`);
  layout.space(2);
  layout.text(meta.join(" · "), "regular", 9.5, 13, { grey: GREY });
  if (year && !isInYear(entry.activityDate, year)) {
    layout.text(
      isIsoDate(entry.activityDate) ? `Dated outside the registration year ${year.label}: it cannot count for that year.` : "No date yet: it counts for no registration year.",
      "bold",
      9.5,
      13,
    );
  }
  layout.space(6);
  layout.rule();

  field(layout, SWE_LABELS.activityType, sweFieldText(entry.activityType));
  field(layout, SWE_LABELS.activityDate, longDate(entry.activityDate));
  field(layout, SWE_LABELS.description, sweFieldText(entry.description));
  field(layout, SWE_LABELS.learning, sweFieldText(entry.learning));
  field(layout, SWE_LABELS.impact, sweFieldText(entry.impact));

  const peer = entry.peerReflection;
  layout.need(40);
  layout.space(16);
  layout.text("Peer reflection", "bold", 12.5, 16, { keep: 3 });
  if (peer && peerReflectionState(entry) !== "none") {
    field(layout, PEER_LABELS["peerReflection.peerRole"], sweFieldText(peer.peerRole === "Other" ? "" : peer.peerRole));
    field(layout, PEER_LABELS["peerReflection.discussedOn"], longDate(peer.discussedOn));
    field(layout, PEER_QUESTION, sweFieldText(peer.text));
  } else {
    layout.space(4);
    layout.text("No peer reflection recorded for this entry.", "italic", BODY, BODY_LEADING, { grey: GREY });
  }

  const tags = [
    ["SWE professional standards", inListOrder(entry.standards ?? [], SWE_STANDARDS).map((id) => tagName("standards", id))],
    ["PCF domains", inListOrder(entry.pcf ?? [], PCF_DOMAINS).map((id) => tagName("pcf", id))],
    ["Tags", entry.tags ?? []],
  ] as const;
  if (tags.some(([, list]) => list.length > 0)) {
    layout.space(10);
    for (const [label, list] of tags) {
      if (list.length) field(layout, label, list.join("\n"));
    }
  }

  // Listed by name and type; the files themselves stay on the server.
  const evidence = (entry.evidence ?? []).map((file) => `${sweFieldText(file.name)} (${typeLabel(file.mimeType)})`);
  if (evidence.length) field(layout, "Evidence attached", evidence.join("\n"));

  if (includeNotes) {
    const notes = noteTexts(entry);
    if (notes.length) {
      layout.need(40);
      layout.space(16);
      layout.text("Notes captured", "bold", 12.5, 16, { keep: 3 });
      for (const note of notes) {
        layout.space(6);
        layout.text(note, "regular", BODY, BODY_LEADING, { grey: 0.2 });
      }
    }
  }
}

interface Contents {
  title: string;
  date: string;
  page: number;
}

/** The title page with a summary and the contents, flowing onto more pages if it must. */
function drawFront(layout: Layout, options: PortfolioOptions, contents: Contents[], summary: string[]): void {
  layout.newPage();
  layout.y = A4.height - 140;
  layout.text("CPD portfolio", "bold", 28, 34);
  layout.space(6);
  const { name, registrationNumber } = ownerOf(options);
  if (name) layout.text(name, "regular", 16, 22);
  if (registrationNumber) layout.text(`SWE registration number ${registrationNumber}`, "regular", 12, 17);
  layout.space(10);
  if (options.year) {
    layout.text(`Social Work England registration year ${options.year.label}`, "bold", 13, 18);
    layout.text(`${longDate(options.year.start)} – ${longDate(options.year.end)}`, "regular", 12, 17);
  } else {
    layout.text("Chosen CPD entries", "bold", 13, 18);
  }
  layout.space(6);
  layout.text(`Made with Fieldbook on ${longDate(ukDateOf(options.now))}`, "regular", 10, 14, { grey: GREY });

  layout.space(26);
  for (const line of summary) layout.text(line, "regular", 11, 16);

  layout.space(22);
  layout.text("Contents", "bold", 13, 18, { keep: 3 });
  layout.space(4);
  if (contents.length === 0) layout.text("No entries.", "italic", BODY, BODY_LEADING, { grey: GREY });
  // The date column as wide as its widest date ("30 September 2026"), and a gap.
  const dateWidth = Math.max(0, ...contents.map((item) => layout.fonts.width(item.date, "regular", BODY))) + 12;
  const pageWidth = 40;
  for (const item of contents) {
    const lines = layout.fonts.wrap(item.title, "regular", BODY, WIDTH - dateWidth - pageWidth - 12);
    layout.need(BODY_LEADING * lines.length);
    lines.forEach((line, i) => {
      layout.y -= BODY_LEADING;
      const baseline = layout.y + (BODY_LEADING - BODY) / 2;
      const texts = layout.page.texts;
      if (i === 0) {
        if (item.date) texts.push({ text: item.date, x: MARGIN_X, y: baseline, font: "regular", size: BODY, grey: GREY });
        const page = String(item.page || "");
        texts.push({ text: page, x: MARGIN_X + WIDTH - layout.fonts.width(page, "regular", BODY), y: baseline, font: "regular", size: BODY });
      }
      texts.push({ text: line, x: MARGIN_X + dateWidth, y: baseline, font: "regular", size: BODY });
    });
  }
}

function summaryLines(options: PortfolioOptions): string[] {
  const entries = options.entries.map((item) => item.entry);
  const count = entries.length;
  const lines = [`${count === 1 ? "1 entry" : `${count} entries`}.`];
  if (options.year) {
    const progress = yearProgress(entries, options.year);
    lines.push(`${progress.recorded} recorded on SWE, ${progress.ready} ready to record, ${progress.draft} ${progress.draft === 1 ? "draft" : "drafts"}.`);
    const met = progress.readyOrRecorded;
    lines.push(
      met.met
        ? "SWE's minimum is met by entries ready or recorded: at least 2 different pieces of CPD, at least 1 with a peer reflection."
        : `SWE's minimum (at least 2 different pieces of CPD, at least 1 with a peer reflection) is not met yet: ${met.distinctPieces} ${met.distinctPieces === 1 ? "piece" : "pieces"} ready or recorded, ${met.withPeerReflection} with a peer reflection.`,
    );
    if (progress.outOfYear.length) {
      lines.push(`${progress.outOfYear.length} ${progress.outOfYear.length === 1 ? "entry is" : "entries are"} not dated in this year and cannot count for it.`);
    }
  } else {
    const withPeer = entries.filter((entry) => peerReflectionState(entry) === "complete").length;
    lines.push(`${withPeer} with a peer reflection.`);
  }
  return lines;
}

function footer(fonts: PdfFonts, pages: PdfPage[], label: string): void {
  const total = pages.length;
  pages.forEach((page, i) => {
    const text = `Page ${i + 1} of ${total}`;
    const y = BOTTOM - 30;
    page.texts.push({ text, x: MARGIN_X + WIDTH - fonts.width(text, "regular", 8.5), y, font: "regular", size: 8.5, grey: GREY });
    if (i > 0) page.texts.push({ text: label, x: MARGIN_X, y, font: "regular", size: 8.5, grey: GREY });
  });
}

/** A CPD portfolio as the bytes of a PDF file, in the given fonts (loadPdfFonts in the app). */
export async function portfolioPdf(options: PortfolioOptions, fonts: PdfFonts): Promise<Uint8Array> {
  const items = [...options.entries].sort(byDate);
  const titles = items.map((item, i) => entryTitle(item.entry, i));
  const summary = summaryLines(options);
  const contents = (pages: number[]): Contents[] =>
    items.map((item, i) => ({ title: titles[i], date: isIsoDate(item.entry.activityDate) ? longDate(item.entry.activityDate) : "No date", page: pages[i] ?? 0 }));

  // The front pages first, to know where the entries start; page numbers do not change its line breaks.
  const front = new Layout(fonts);
  drawFront(front, options, contents([]), summary);
  const frontPages = front.pages.length;

  const body = new Layout(fonts);
  const starts: number[] = [];
  items.forEach((item, i) => {
    body.newPage();
    starts.push(frontPages + body.pages.length);
    drawEntry(body, item.entry, titles[i], options.year, options.includeNotes ?? false);
  });

  const final = new Layout(fonts);
  drawFront(final, options, contents(starts), summary);
  const pages = [...final.pages, ...body.pages];
  const label = options.year ? `CPD portfolio ${options.year.label}` : "CPD portfolio";
  const { name } = ownerOf(options);
  footer(fonts, pages, name ? `${label} · ${name}` : label);

  return writePdf(
    pages,
    fonts,
    {
      title: options.year ? `CPD portfolio ${options.year.label}` : "CPD portfolio",
      author: name || undefined,
      subject: "Continuing professional development for Social Work England",
      lang: "en-GB",
      created: options.now,
    },
    { compress: options.compress },
  );
}
