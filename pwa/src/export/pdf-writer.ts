// A small PDF writer: pages of text and rules, in DejaVu Sans and DejaVu
// Sans Bold (pdf-fonts.ts). Each font is embedded as a subset of the glyphs
// the file uses: a CIDFontType2 font with Identity-H encoding (two-byte codes)
// and a ToUnicode map, so every letter prints and copies as itself, ŵ, ł and
// ő included. A character the font lacks (an emoji) prints as the font's
// empty box but still copies as itself. Pure: no DOM; compresses with
// CompressionStream where there is one (browsers, Node 18+).

import { cleanText, type FontId, type PdfFonts } from "./pdf-fonts";
import { subsetTrueType, type TrueTypeFont } from "./truetype";

export type { FontId } from "./pdf-fonts";

/** A4 in points. */
export const A4 = { width: 595.28, height: 841.89 };

/** The slant of the italic style, drawn with the regular font: tan(12°). */
const ITALIC_SLANT = 0.21;

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

/**
 * The characters one font file draws in this PDF, each given a code (CID) in
 * the order first met; CID 0 stays the missing glyph.
 */
class FontUse {
  readonly codes = new Map<number, number>();
  constructor(
    readonly font: TrueTypeFont,
    readonly name: string,
  ) {}

  /** A run of text as a hex string of two-byte codes. */
  encode(text: string): string {
    let hex = "<";
    for (const char of cleanText(text).replace(/[\r\n]/g, "")) {
      const codePoint = char.codePointAt(0)!;
      let code = this.codes.get(codePoint);
      if (code === undefined) this.codes.set(codePoint, (code = this.codes.size + 1));
      hex += code.toString(16).padStart(4, "0");
    }
    return `${hex}>`;
  }
}

const FONT_KEYS = { regular: "F1", bold: "F2" } as const;

function contentStream(page: PdfPage, uses: Record<"regular" | "bold", FontUse>): string {
  const ops: string[] = [];
  for (const rule of page.rules) {
    ops.push(`${num(rule.grey ?? 0)} G ${num(rule.width)} w ${num(rule.x1)} ${num(rule.y1)} m ${num(rule.x2)} ${num(rule.y2)} l S`);
  }
  let font = "";
  let grey = -1;
  if (page.texts.length) ops.push("BT");
  for (const run of page.texts) {
    const file = run.font === "bold" ? "bold" : "regular";
    const key = `/${FONT_KEYS[file]} ${num(run.size)} Tf`;
    if (key !== font) ops.push((font = key));
    if ((run.grey ?? 0) !== grey) ops.push(`${num((grey = run.grey ?? 0))} g`);
    const slant = run.font === "italic" ? ITALIC_SLANT : 0;
    ops.push(`1 0 ${num(slant)} 1 ${num(run.x)} ${num(run.y)} Tm ${uses[file].encode(run.text)} Tj`);
  }
  if (page.texts.length) ops.push("ET");
  return ops.join("\n");
}

/** UTF-16BE hex of a code point, for the ToUnicode map. */
function utf16Hex(codePoint: number): string {
  const units = String.fromCodePoint(codePoint);
  let hex = "";
  for (let i = 0; i < units.length; i++) hex += units.charCodeAt(i).toString(16).padStart(4, "0").toUpperCase();
  return hex;
}

/** The map from codes back to Unicode, so text can be searched, copied and read aloud. */
function toUnicodeCMap(codes: Map<number, number>): string {
  const pairs = [...codes].map(([codePoint, code]) => `<${code.toString(16).padStart(4, "0")}> <${utf16Hex(codePoint)}>`);
  const blocks: string[] = [];
  for (let i = 0; i < pairs.length; i += 100) {
    const block = pairs.slice(i, i + 100);
    blocks.push(`${block.length} beginbfchar\n${block.join("\n")}\nendbfchar`);
  }
  return [
    "/CIDInit /ProcSet findresource begin",
    "12 dict begin",
    "begincmap",
    "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
    "/CMapName /Adobe-Identity-UCS def",
    "/CMapType 2 def",
    "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange",
    ...blocks,
    "endcmap",
    "CMapName currentdict /CMap defineresource pop",
    "end",
    "end",
  ].join("\n");
}

/** Six capital letters naming a subset, from what it holds (the PDF convention "ABCDEF+Name"). */
function subsetTag(codes: Map<number, number>): string {
  let h = 0x811c9dc5;
  for (const codePoint of codes.keys()) h = Math.imul(h ^ codePoint, 0x01000193) >>> 0;
  let tag = "";
  for (let i = 0; i < 6; i++) {
    tag += String.fromCharCode(65 + (h % 26));
    h = Math.floor(h / 26) + Math.imul(i + 1, 7919);
  }
  return tag;
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

/** Writes pages as a PDF 1.4 file. Streams are compressed unless `compress` is false or there is no CompressionStream. */
export async function writePdf(pages: readonly PdfPage[], fonts: PdfFonts, info: PdfInfo = {}, options: { compress?: boolean } = {}): Promise<Uint8Array> {
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
  const stream = async (id: number, content: string | Uint8Array, extra = "") => {
    const raw = typeof content === "string" ? encoder.encode(content) : content;
    const packed = options.compress === false ? null : await deflate(raw);
    offsets[id] = length;
    const data = packed ?? raw;
    push(`${id} 0 obj\n<< /Length ${data.length}${packed ? " /Filter /FlateDecode" : ""}${extra} >>\nstream\n`);
    push(data);
    push("\nendstream\nendobj\n");
  };

  // Objects: 1 catalogue, 2 page tree, 3 info, 4–9 the regular font, 10–15 the bold one, then a page and its content per page.
  const uses = { regular: new FontUse(fonts.regular, "DejaVuSans"), bold: new FontUse(fonts.bold, "DejaVuSans-Bold") };
  const fontIds = { regular: 4, bold: 10 };
  const pageIds = pages.map((_, i) => 16 + i * 2);
  // The header, then a comment of bytes above 127 so tools treat the file as binary.
  push(new Uint8Array([...encoder.encode("%PDF-1.4\n%"), 0xe2, 0xe3, 0xcf, 0xd3, 0x0a]));

  object(1, `<< /Type /Catalog /Pages 2 0 R${info.lang ? ` /Lang ${pdfTextString(info.lang)}` : ""} /ViewerPreferences << /DisplayDocTitle true >> >>`);
  object(2, `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${pages.length} >>`);
  const created = info.created ?? new Date();
  const infoEntries = [
    info.title && `/Title ${pdfTextString(info.title)}`,
    info.author && `/Author ${pdfTextString(info.author)}`,
    info.subject && `/Subject ${pdfTextString(info.subject)}`,
    `/Creator ${pdfTextString("Fieldbook")}`,
    `/Producer ${pdfTextString("Fieldbook")}`,
    `/CreationDate ${pdfDate(created)}`,
  ].filter(Boolean);
  object(3, `<< ${infoEntries.join(" ")} >>`);
  const resources = `<< /Font << /F1 ${fontIds.regular} 0 R /F2 ${fontIds.bold} 0 R >> >>`;
  for (let i = 0; i < pages.length; i++) {
    const id = pageIds[i];
    object(id, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${num(A4.width)} ${num(A4.height)}] /Resources ${resources} /Contents ${id + 1} 0 R >>`);
    await stream(id + 1, contentStream(pages[i], uses));
  }
  // The fonts last: only now is it known which characters the pages use.
  for (const file of ["regular", "bold"] as const) await writeFont(fontIds[file], uses[file], object, stream);

  const count = 16 + pages.length * 2;
  const xref = length;
  let table = `xref\n0 ${count}\n0000000000 65535 f \n`;
  for (let id = 1; id < count; id++) table += `${String(offsets[id]).padStart(10, "0")} 00000 n \n`;
  const fileId = fnv1a(`${info.title ?? ""}|${created.toISOString()}|${pages.length}|${length}`);
  push(`${table}trailer\n<< /Size ${count} /Root 1 0 R /Info 3 0 R /ID [<${fileId}> <${fileId}>] >>\nstartxref\n${xref}\n%%EOF\n`);

  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * One font as six objects from `id`: the Type 0 font, its CIDFontType2 font,
 * the font descriptor, the subset font file, the ToUnicode map and the map
 * from codes to the subset's glyphs.
 */
async function writeFont(
  id: number,
  use: FontUse,
  object: (id: number, body: string) => void,
  stream: (id: number, content: string | Uint8Array, extra?: string) => Promise<void>,
): Promise<void> {
  const { font } = use;
  const chars = [...use.codes.keys()];
  const subset = subsetTrueType(font, chars.map((c) => font.glyphFor(c)));
  const scale = (units: number) => Math.round((units * 1000) / font.unitsPerEm);
  const name = `${subsetTag(use.codes)}+${use.name}`;
  // CID → glyph of the subset: two bytes each, from CID 0.
  const cidToGid = new Uint8Array((chars.length + 1) * 2);
  const widths: number[] = [];
  chars.forEach((c, i) => {
    const glyph = subset.glyphs.get(font.glyphFor(c)) ?? 0;
    cidToGid[(i + 1) * 2] = glyph >> 8;
    cidToGid[(i + 1) * 2 + 1] = glyph & 0xff;
    widths.push(scale(font.advance(font.glyphFor(c))));
  });
  object(id, `<< /Type /Font /Subtype /Type0 /BaseFont /${name} /Encoding /Identity-H /DescendantFonts [${id + 1} 0 R] /ToUnicode ${id + 4} 0 R >>`);
  object(
    id + 1,
    `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /${name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor ${id + 2} 0 R /DW ${scale(font.advance(0))}${widths.length ? ` /W [1 [${widths.join(" ")}]]` : ""} /CIDToGIDMap ${id + 5} 0 R >>`,
  );
  object(
    id + 2,
    `<< /Type /FontDescriptor /FontName /${name} /Flags 32 /FontBBox [${font.bbox.map(scale).join(" ")}] /ItalicAngle ${num(font.italicAngle)} /Ascent ${scale(font.ascent)} /Descent ${scale(font.descent)} /CapHeight ${scale(font.capHeight)} /StemV 80 /FontFile2 ${id + 3} 0 R >>`,
  );
  await stream(id + 3, subset.bytes, ` /Length1 ${subset.bytes.length}`);
  await stream(id + 4, toUnicodeCMap(use.codes));
  await stream(id + 5, cidToGid);
}
