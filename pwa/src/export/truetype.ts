// TrueType fonts for the PDF writer: reads what a PDF needs from a font
// (units, advance widths, the character map, glyph outlines) and writes a
// subset holding only chosen glyphs, renumbered from 0 and without hinting.
// The build cuts DejaVu Sans down to the scripts Fieldbook expects to meet
// (scripts/pdf-font-subset.ts); each PDF then embeds only the glyphs its own
// text uses. Pure: no DOM, no Node.

/** A parsed TrueType font. Sizes are in font units (`unitsPerEm` to the em). */
export interface TrueTypeFont {
  unitsPerEm: number;
  ascent: number;
  descent: number;
  capHeight: number;
  italicAngle: number;
  bbox: [number, number, number, number];
  numGlyphs: number;
  /** Unicode code point → glyph ID, for the characters the font has. */
  cmap: ReadonlyMap<number, number>;
  /** The glyph for a code point, 0 (the "missing" glyph) if the font has none. */
  glyphFor(codePoint: number): number;
  /** A glyph's advance width. */
  advance(glyph: number): number;
}

export class FontError extends Error {}

interface Parsed extends TrueTypeFont {
  bytes: Uint8Array;
  tables: Map<string, { offset: number; length: number }>;
  view: DataView;
}

const parsed = new WeakMap<TrueTypeFont, Parsed>();

/** Reads a TrueType font (glyf outlines; not CFF, not a collection). */
export function parseTrueType(bytes: Uint8Array): TrueTypeFont {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || view.getUint32(0) !== 0x00010000) throw new FontError("Not a TrueType font");
  const tables = new Map<string, { offset: number; length: number }>();
  const count = view.getUint16(4);
  for (let i = 0; i < count; i++) {
    const at = 12 + i * 16;
    const tag = String.fromCharCode(...bytes.subarray(at, at + 4));
    const offset = view.getUint32(at + 8);
    const length = view.getUint32(at + 12);
    if (offset + length > bytes.length) throw new FontError(`The font's ${tag} table is cut off`);
    tables.set(tag, { offset, length });
  }
  for (const tag of ["head", "hhea", "maxp", "hmtx", "loca", "glyf"]) {
    if (!tables.has(tag)) throw new FontError(`The font has no ${tag} table`);
  }
  const at = (tag: string) => tables.get(tag)!.offset;

  const unitsPerEm = view.getUint16(at("head") + 18);
  const bbox: [number, number, number, number] = [0, 2, 4, 6].map((d) => view.getInt16(at("head") + 36 + d)) as [number, number, number, number];
  const numGlyphs = view.getUint16(at("maxp") + 4);
  const metricsCount = view.getUint16(at("hhea") + 34);
  const ascent = view.getInt16(at("hhea") + 4);
  const descent = view.getInt16(at("hhea") + 6);
  const os2 = tables.get("OS/2");
  const capHeight = os2 && view.getUint16(os2.offset) >= 2 ? view.getInt16(os2.offset + 88) : ascent;
  const post = tables.get("post");
  const italicAngle = post ? view.getInt32(post.offset + 4) / 65536 : 0;

  const advances = new Uint16Array(numGlyphs);
  for (let g = 0; g < numGlyphs; g++) advances[g] = view.getUint16(at("hmtx") + 4 * Math.min(g, metricsCount - 1));

  // A font embedded in a PDF needs no character map: the PDF says which glyph each code is.
  const cmap = tables.has("cmap") ? readCmap(view, at("cmap")) : new Map<number, number>();
  const font: Parsed = {
    unitsPerEm,
    ascent,
    descent,
    capHeight,
    italicAngle,
    bbox,
    numGlyphs,
    cmap,
    glyphFor: (codePoint) => cmap.get(codePoint) ?? 0,
    advance: (glyph) => advances[glyph] ?? advances[0],
    bytes,
    tables,
    view,
  };
  parsed.set(font, font);
  return font;
}

/** The Unicode map: format 12 (all planes) if there is one, else format 4 (the first plane). */
function readCmap(view: DataView, cmap: number): Map<number, number> {
  const map = new Map<number, number>();
  const count = view.getUint16(cmap + 2);
  let format4 = -1;
  let format12 = -1;
  for (let i = 0; i < count; i++) {
    const platform = view.getUint16(cmap + 4 + i * 8);
    const encoding = view.getUint16(cmap + 6 + i * 8);
    const offset = cmap + view.getUint32(cmap + 8 + i * 8);
    const format = view.getUint16(offset);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (unicode && format === 12) format12 = offset;
    if (unicode && format === 4) format4 = offset;
  }
  if (format12 >= 0) {
    const groups = view.getUint32(format12 + 12);
    for (let i = 0; i < groups; i++) {
      const g = format12 + 16 + i * 12;
      const [start, end, glyph] = [view.getUint32(g), view.getUint32(g + 4), view.getUint32(g + 8)];
      for (let c = start; c <= end; c++) map.set(c, glyph + c - start);
    }
  } else if (format4 >= 0) {
    const segments = view.getUint16(format4 + 6) / 2;
    const ends = format4 + 14;
    const starts = ends + segments * 2 + 2;
    const deltas = starts + segments * 2;
    const ranges = deltas + segments * 2;
    for (let s = 0; s < segments; s++) {
      const [start, end] = [view.getUint16(starts + s * 2), view.getUint16(ends + s * 2)];
      const delta = view.getInt16(deltas + s * 2);
      const range = view.getUint16(ranges + s * 2);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        let glyph: number;
        if (range === 0) glyph = (c + delta) & 0xffff;
        else {
          const raw = view.getUint16(ranges + s * 2 + range + (c - start) * 2);
          glyph = raw === 0 ? 0 : (raw + delta) & 0xffff;
        }
        if (glyph !== 0) map.set(c, glyph);
      }
    }
  } else {
    throw new FontError("The font has no Unicode character map");
  }
  return map;
}

export interface SubsetOptions {
  /** Add a character map (Unicode → new glyph) for these code points: a font the app can read again. */
  cmap?: Iterable<number>;
  /** Other tables to copy unchanged (the licence in `name`, `OS/2`); `post` is written without glyph names. */
  copy?: string[];
}

export interface Subset {
  bytes: Uint8Array;
  /** Old glyph ID → new glyph ID. */
  glyphs: Map<number, number>;
}

const COMPOSITE = { wordArgs: 0x0001, scale: 0x0008, more: 0x0020, xyScale: 0x0040, twoByTwo: 0x0080, instructions: 0x0100 };

/**
 * A font with only the given glyphs (glyph 0, the missing glyph, always
 * first; the parts of composite glyphs added after), numbered in that order,
 * hinting left out: PDF readers and printers render outlines well without it.
 */
export function subsetTrueType(font: TrueTypeFont, glyphs: Iterable<number>, options: SubsetOptions = {}): Subset {
  const f = parsed.get(font);
  if (!f) throw new FontError("Not a font read by parseTrueType");
  const { view, bytes } = f;
  const head = f.tables.get("head")!.offset;
  const longLoca = view.getInt16(head + 50) === 1;
  const loca = f.tables.get("loca")!.offset;
  const glyf = f.tables.get("glyf")!.offset;
  const glyphData = (g: number): Uint8Array => {
    const [start, end] = longLoca ? [view.getUint32(loca + g * 4), view.getUint32(loca + g * 4 + 4)] : [view.getUint16(loca + g * 2) * 2, view.getUint16(loca + g * 2 + 2) * 2];
    return bytes.subarray(glyf + start, glyf + end);
  };
  const components = (data: Uint8Array): { at: number; glyph: number }[] => {
    const out: { at: number; glyph: number }[] = [];
    if (data.length < 10 || new DataView(data.buffer, data.byteOffset).getInt16(0) >= 0) return out;
    const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let at = 10;
    for (;;) {
      const flags = d.getUint16(at);
      out.push({ at: at + 2, glyph: d.getUint16(at + 2) });
      at += 4 + (flags & COMPOSITE.wordArgs ? 4 : 2) + (flags & COMPOSITE.scale ? 2 : flags & COMPOSITE.xyScale ? 4 : flags & COMPOSITE.twoByTwo ? 8 : 0);
      if (!(flags & COMPOSITE.more)) return out;
    }
  };

  // The glyphs to keep, in order, with every component of a composite glyph.
  const order: number[] = [];
  const newId = new Map<number, number>();
  const keep = (g: number) => {
    if (g >= f.numGlyphs || newId.has(g)) return;
    newId.set(g, order.length);
    order.push(g);
  };
  keep(0);
  for (const g of glyphs) keep(g);
  for (let i = 0; i < order.length; i++) for (const part of components(glyphData(order[i]))) keep(part.glyph);

  // glyf and loca: outlines without instructions, each padded to 4 bytes.
  const outlines = order.map((g) => stripInstructions(glyphData(g), components, newId));
  const glyfOut = new Uint8Array(outlines.reduce((sum, o) => sum + pad4(o.length), 0));
  const locaOut = new DataView(new ArrayBuffer((order.length + 1) * 4));
  let offset = 0;
  outlines.forEach((outline, i) => {
    locaOut.setUint32(i * 4, offset);
    glyfOut.set(outline, offset);
    offset += pad4(outline.length);
  });
  locaOut.setUint32(order.length * 4, offset);

  const hmtx = f.tables.get("hmtx")!.offset;
  const metricsCount = view.getUint16(f.tables.get("hhea")!.offset + 34);
  const hmtxOut = new DataView(new ArrayBuffer(order.length * 4));
  order.forEach((g, i) => {
    hmtxOut.setUint16(i * 4, font.advance(g));
    const lsb = g < metricsCount ? view.getInt16(hmtx + g * 4 + 2) : view.getInt16(hmtx + metricsCount * 4 + (g - metricsCount) * 2);
    hmtxOut.setInt16(i * 4 + 2, lsb);
  });

  const copyOf = (tag: string) => {
    const t = f.tables.get(tag)!;
    return bytes.slice(t.offset, t.offset + t.length);
  };
  const headOut = copyOf("head");
  new DataView(headOut.buffer).setUint32(8, 0); // checkSumAdjustment, set once the file is whole
  new DataView(headOut.buffer).setInt16(50, 1); // long loca offsets
  const hheaOut = copyOf("hhea");
  new DataView(hheaOut.buffer).setUint16(34, order.length);
  const maxpOut = copyOf("maxp");
  new DataView(maxpOut.buffer).setUint16(4, order.length);

  const out = new Map<string, Uint8Array>([
    ["head", headOut],
    ["hhea", hheaOut],
    ["maxp", maxpOut],
    ["hmtx", new Uint8Array(hmtxOut.buffer)],
    ["loca", new Uint8Array(locaOut.buffer)],
    ["glyf", glyfOut],
  ]);
  for (const tag of options.copy ?? []) {
    if (!f.tables.has(tag)) continue;
    if (tag === "post") {
      const post = copyOf("post").slice(0, 32);
      new DataView(post.buffer).setUint32(0, 0x00030000); // version 3: no glyph names
      out.set("post", post);
    } else out.set(tag, copyOf(tag));
  }
  if (options.cmap) {
    const pairs: [number, number][] = [];
    for (const c of options.cmap) {
      const g = newId.get(font.glyphFor(c));
      if (g) pairs.push([c, g]);
    }
    out.set("cmap", cmapFormat12(pairs));
  }
  return { bytes: writeSfnt(out), glyphs: newId };
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** A glyph's outline without its hinting instructions, composite parts renumbered. */
function stripInstructions(data: Uint8Array, components: (data: Uint8Array) => { at: number; glyph: number }[], newId: Map<number, number>): Uint8Array {
  if (data.length === 0) return data;
  const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const contours = d.getInt16(0);
  if (contours >= 0) {
    const lengthAt = 10 + contours * 2;
    if (data.length < lengthAt + 2) return data;
    const instructions = d.getUint16(lengthAt);
    const out = new Uint8Array(data.length - instructions);
    out.set(data.subarray(0, lengthAt));
    out.set(data.subarray(lengthAt + 2 + instructions), lengthAt + 2); // the length stays 0
    return out;
  }
  const parts = components(data);
  const last = parts[parts.length - 1];
  // The end of the last component's record: its flags say how long its arguments are.
  const flags = d.getUint16(last.at - 2);
  const end = last.at + 2 + (flags & COMPOSITE.wordArgs ? 4 : 2) + (flags & COMPOSITE.scale ? 2 : flags & COMPOSITE.xyScale ? 4 : flags & COMPOSITE.twoByTwo ? 8 : 0);
  const out = data.slice(0, end);
  const o = new DataView(out.buffer);
  for (const part of parts) {
    o.setUint16(part.at, newId.get(part.glyph) ?? 0);
    o.setUint16(part.at - 2, o.getUint16(part.at - 2) & ~COMPOSITE.instructions);
  }
  return out;
}

/** A cmap table with one format 12 subtable (Windows, Unicode full repertoire). */
function cmapFormat12(pairs: [number, number][]): Uint8Array {
  pairs.sort((a, b) => a[0] - b[0]);
  const groups: [number, number, number][] = [];
  for (const [c, g] of pairs) {
    const last = groups[groups.length - 1];
    if (last && c === last[1] + 1 && g === last[2] + (c - last[0])) last[1] = c;
    else groups.push([c, c, g]);
  }
  const d = new DataView(new ArrayBuffer(12 + 16 + groups.length * 12));
  d.setUint16(2, 1); // one subtable
  d.setUint16(4, 3);
  d.setUint16(6, 10);
  d.setUint32(8, 12);
  d.setUint16(12, 12); // format
  d.setUint32(16, 16 + groups.length * 12);
  d.setUint32(24, groups.length);
  groups.forEach(([start, end, glyph], i) => {
    d.setUint32(28 + i * 12, start);
    d.setUint32(32 + i * 12, end);
    d.setUint32(36 + i * 12, glyph);
  });
  return new Uint8Array(d.buffer);
}

function checksum(data: Uint8Array): number {
  const padded = new Uint8Array(pad4(data.length));
  padded.set(data);
  const d = new DataView(padded.buffer);
  let sum = 0;
  for (let i = 0; i < padded.length; i += 4) sum = (sum + d.getUint32(i)) >>> 0;
  return sum;
}

/** The font file: the table directory, then each table padded to 4 bytes. */
function writeSfnt(tables: Map<string, Uint8Array>): Uint8Array {
  const tags = [...tables.keys()].sort();
  const headerLength = 12 + tags.length * 16;
  const total = headerLength + tags.reduce((sum, tag) => sum + pad4(tables.get(tag)!.length), 0);
  const out = new Uint8Array(total);
  const d = new DataView(out.buffer);
  const power = 2 ** Math.floor(Math.log2(tags.length));
  d.setUint32(0, 0x00010000);
  d.setUint16(4, tags.length);
  d.setUint16(6, power * 16);
  d.setUint16(8, Math.log2(power));
  d.setUint16(10, tags.length * 16 - power * 16);
  let offset = headerLength;
  let headAt = 0;
  tags.forEach((tag, i) => {
    const data = tables.get(tag)!;
    for (let c = 0; c < 4; c++) d.setUint8(12 + i * 16 + c, tag.charCodeAt(c));
    d.setUint32(12 + i * 16 + 4, checksum(data));
    d.setUint32(12 + i * 16 + 8, offset);
    d.setUint32(12 + i * 16 + 12, data.length);
    out.set(data, offset);
    if (tag === "head") headAt = offset;
    offset += pad4(data.length);
  });
  if (headAt) d.setUint32(headAt + 8, (0xb1b0afba - checksum(out)) >>> 0);
  return out;
}
