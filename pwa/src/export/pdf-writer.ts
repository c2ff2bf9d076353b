// A small PDF writer: pages of text in the standard fonts Helvetica,
// Helvetica-Bold and Helvetica-Oblique with WinAnsi encoding, so the file
// needs no embedded font and stays small. Characters WinAnsi lacks fall back
// to a near equivalent (ł → l, → → ->) or "?". Pure: no DOM; compresses with
// CompressionStream where there is one (browsers, Node 18+).

import { HELVETICA_BOLD_WIDTHS, HELVETICA_WIDTHS } from "./pdf-fonts";

export type FontId = "regular" | "bold" | "italic";

const FONT_NAMES: Record<FontId, string> = { regular: "Helvetica", bold: "Helvetica-Bold", italic: "Helvetica-Oblique" };
const FONT_KEYS: Record<FontId, string> = { regular: "F1", bold: "F2", italic: "F3" };

/** A4 in points. */
export const A4 = { width: 595.28, height: 841.89 };

// --- WinAnsi ---------------------------------------------------------------------

/** Unicode → WinAnsi byte for the codes 0x80–0x9F, where WinAnsi differs from Latin-1. */
const WIN_ANSI_HIGH: Record<string, number> = {
  "€": 0x80, "‚": 0x82, "ƒ": 0x83, "„": 0x84, "…": 0x85, "†": 0x86, "‡": 0x87, "ˆ": 0x88, "‰": 0x89, "Š": 0x8a, "‹": 0x8b, "Œ": 0x8c, "Ž": 0x8e,
  "‘": 0x91, "’": 0x92, "“": 0x93, "”": 0x94, "•": 0x95, "–": 0x96, "—": 0x97, "˜": 0x98, "™": 0x99, "š": 0x9a, "›": 0x9b, "œ": 0x9c, "ž": 0x9e, "Ÿ": 0x9f,
};

/** Near equivalents for characters WinAnsi lacks and decomposition does not help with. */
const FALLBACKS: Record<string, string> = {
  "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "ı": "i", "ŀ": "l", "Ŀ": "L", "ŧ": "t", "Ŧ": "T", "ĸ": "k", "ŉ": "'n",
  "‐": "-", "‑": "-", "‒": "–", "―": "—", "−": "-", "⁄": "/", "′": "'", "″": '"', "‛": "'", "‟": '"', "❝": "“", "❞": "”",
  "→": "->", "←": "<-", "↔": "<->", "⇒": "=>", "≤": "<=", "≥": ">=", "≠": "!=", "≈": "~", "✓": "v", "✔": "v", "✗": "x", "✘": "x",
  "◦": "•", "▪": "•", "●": "•", "‣": "•", "⁃": "-", "№": "No.", "ℓ": "l", "℃": "°C", "ﬁ": "fi", "ﬂ": "fl", "\u2028": " ", "\u2029": " ",
};

function winAnsiByte(char: string): number | null {
  const code = char.codePointAt(0)!;
  if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff)) return code;
  return WIN_ANSI_HIGH[char] ?? null;
}

/**
 * Text as WinAnsi can show it: characters it has stay, others become a near
 * equivalent (accents dropped where the letter is missing) or "?". Tabs and
 * unusual spaces become spaces; line breaks stay; other control characters
 * are dropped.
 */
export function toWinAnsi(text: string): string {
  let out = "";
  for (const char of text.normalize("NFC")) {
    if (winAnsiByte(char) !== null) {
      out += char;
      continue;
    }
    if (/[\t\u2000-\u200a\u202f\u205f\u3000]/.test(char)) {
      out += " ";
      continue;
    }
    if (char === "\n" || char === "\r") {
      out += char;
      continue;
    }
    if (/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2060\ufeff\u00ad\ufe0f]/.test(char)) continue;
    const fallback = FALLBACKS[char];
    if (fallback !== undefined) {
      out += fallback;
      continue;
    }
    const stripped = char.normalize("NFKD").replace(/\p{M}/gu, "");
    out += stripped !== "" && [...stripped].every((c) => winAnsiByte(c) !== null) ? stripped : "?";
  }
  return out;
}

/** WinAnsi bytes of text already passed through toWinAnsi. */
function winAnsiBytes(text: string): number[] {
  const bytes: number[] = [];
  for (const char of text) bytes.push(winAnsiByte(char) ?? 0x3f);
  return bytes;
}

/** The width of a line of text in points. */
export function textWidth(text: string, font: FontId, size: number): number {
  const widths = font === "bold" ? HELVETICA_BOLD_WIDTHS : HELVETICA_WIDTHS;
  let units = 0;
  for (const byte of winAnsiBytes(toWinAnsi(text))) units += widths[byte - 32] ?? 0;
  return (units * size) / 1000;
}

/**
 * Wraps text to lines no wider than maxWidth. Line breaks in the text are
 * kept (a blank line stays blank); words longer than a line are split.
 */
export function wrapText(text: string, font: FontId, size: number, maxWidth: number): string[] {
  const lines: string[] = [];
  for (const paragraph of toWinAnsi(text).split(/\r\n?|\n/)) {
    const words = paragraph.split(/ +/).filter((word) => word !== "");
    if (words.length === 0) {
      lines.push("");
      continue;
    }
    let line = "";
    for (let word of words) {
      const candidate = line ? `${line} ${word}` : word;
      if (textWidth(candidate, font, size) <= maxWidth) {
        line = candidate;
        continue;
      }
      if (line) lines.push(line);
      line = "";
      while (textWidth(word, font, size) > maxWidth) {
        // Split a very long word (a URL) at the most characters that fit.
        let cut = 1;
        while (cut < word.length && textWidth(word.slice(0, cut + 1), font, size) <= maxWidth) cut++;
        lines.push(word.slice(0, cut));
        word = word.slice(cut);
      }
      line = word;
    }
    lines.push(line);
  }
  return lines;
}

// --- Pages -----------------------------------------------------------------------

export interface TextRun {
  text: string;
  x: number;
  /** Baseline, from the bottom of the page. */
  y: number;
  font: FontId;
  size: number;
  /** Grey level, 0 black to 1 white. */
  grey?: number;
}

export interface Rule {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  width: number;
  grey?: number;
}

export interface PdfPage {
  texts: TextRun[];
  rules: Rule[];
}

export interface PdfInfo {
  title?: string;
  author?: string;
  subject?: string;
  /** BCP 47 language of the text, "en-GB". */
  lang?: string;
  created?: Date;
}

function num(value: number): string {
  return Number(value.toFixed(2)).toString();
}

/** A PDF literal string of WinAnsi bytes, escaped so the file stays ASCII. */
function pdfString(text: string): string {
  let out = "(";
  for (const byte of winAnsiBytes(toWinAnsi(text))) {
    if (byte === 0x28 || byte === 0x29 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte > 0x7e) out += `\\${byte.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(byte);
  }
  return `${out})`;
}

/** A text string for the document's metadata: UTF-16BE with a byte order mark, in hex. */
function pdfTextString(text: string): string {
  let hex = "<FEFF";
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, "0").toUpperCase();
  return `${hex}>`;
}

function pdfDate(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `(D:${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}Z)`;
}

function contentStream(page: PdfPage): string {
  const ops: string[] = [];
  for (const rule of page.rules) {
    ops.push(`${num(rule.grey ?? 0)} G ${num(rule.width)} w ${num(rule.x1)} ${num(rule.y1)} m ${num(rule.x2)} ${num(rule.y2)} l S`);
  }
  let font = "";
  let grey = -1;
  if (page.texts.length) ops.push("BT");
  for (const run of page.texts) {
    const key = `/${FONT_KEYS[run.font]} ${num(run.size)} Tf`;
    if (key !== font) ops.push((font = key));
    if ((run.grey ?? 0) !== grey) ops.push(`${num((grey = run.grey ?? 0))} g`);
    ops.push(`1 0 0 1 ${num(run.x)} ${num(run.y)} Tm ${pdfString(run.text)} Tj`);
  }
  if (page.texts.length) ops.push("ET");
  return ops.join("\n");
}

const encoder = new TextEncoder();

async function deflate(data: Uint8Array): Promise<Uint8Array | null> {
  if (typeof CompressionStream === "undefined") return null;
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A simple hash for the file identifier (not for security). */
function fnv1a(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    a = Math.imul(a ^ text.charCodeAt(i), 0x01000193) >>> 0;
    b = Math.imul(b ^ text.charCodeAt(text.length - 1 - i), 0x811c9dc5) >>> 0;
  }
  return (a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0")).repeat(2).toUpperCase();
}

/** Writes pages as a PDF 1.4 file. Content streams are compressed unless `compress` is false or there is no CompressionStream. */
export async function writePdf(pages: readonly PdfPage[], info: PdfInfo = {}, options: { compress?: boolean } = {}): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const offsets: number[] = [];
  let length = 0;
  const push = (part: string | Uint8Array) => {
    const bytes = typeof part === "string" ? encoder.encode(part) : part;
    chunks.push(bytes);
    length += bytes.length;
  };
  const object = (id: number, body: string) => {
    offsets[id] = length;
    push(`${id} 0 obj\n${body}\nendobj\n`);
  };
  const stream = async (id: number, content: string) => {
    const raw = encoder.encode(content);
    const packed = options.compress === false ? null : await deflate(raw);
    offsets[id] = length;
    const data = packed ?? raw;
    push(`${id} 0 obj\n<< /Length ${data.length}${packed ? " /Filter /FlateDecode" : ""} >>\nstream\n`);
    push(data);
    push("\nendstream\nendobj\n");
  };

  // Objects: 1 catalogue, 2 page tree, 3–5 fonts, 6 info, then a page and its content per page.
  const pageIds = pages.map((_, i) => 7 + i * 2);
  // The header, then a comment of bytes above 127 so tools treat the file as binary.
  push(new Uint8Array([...encoder.encode("%PDF-1.4\n%"), 0xe2, 0xe3, 0xcf, 0xd3, 0x0a]));

  object(1, `<< /Type /Catalog /Pages 2 0 R${info.lang ? ` /Lang ${pdfTextString(info.lang)}` : ""} /ViewerPreferences << /DisplayDocTitle true >> >>`);
  object(2, `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${pages.length} >>`);
  (["regular", "bold", "italic"] as const).forEach((font, i) =>
    object(3 + i, `<< /Type /Font /Subtype /Type1 /BaseFont /${FONT_NAMES[font]} /Encoding /WinAnsiEncoding >>`),
  );
  const created = info.created ?? new Date();
  const infoEntries = [
    info.title && `/Title ${pdfTextString(info.title)}`,
    info.author && `/Author ${pdfTextString(info.author)}`,
    info.subject && `/Subject ${pdfTextString(info.subject)}`,
    `/Creator ${pdfTextString("Fieldbook")}`,
    `/Producer ${pdfTextString("Fieldbook")}`,
    `/CreationDate ${pdfDate(created)}`,
  ].filter(Boolean);
  object(6, `<< ${infoEntries.join(" ")} >>`);
  for (let i = 0; i < pages.length; i++) {
    const id = pageIds[i];
    object(
      id,
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${num(A4.width)} ${num(A4.height)}] /Resources << /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >> >> /Contents ${id + 1} 0 R >>`,
    );
    await stream(id + 1, contentStream(pages[i]));
  }

  const count = 7 + pages.length * 2;
  const xref = length;
  let table = `xref\n0 ${count}\n0000000000 65535 f \n`;
  for (let id = 1; id < count; id++) table += `${String(offsets[id]).padStart(10, "0")} 00000 n \n`;
  const fileId = fnv1a(`${info.title ?? ""}|${created.toISOString()}|${pages.length}|${length}`);
  push(`${table}trailer\n<< /Size ${count} /Root 1 0 R /Info 6 0 R /ID [<${fileId}> <${fileId}>] >>\nstartxref\n${xref}\n%%EOF\n`);

  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
