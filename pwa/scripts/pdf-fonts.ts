// The fonts the PDF portfolio is written in, made at build time: DejaVu Sans
// and DejaVu Sans Bold (the dejavu-fonts-ttf package; the Bitstream Vera
// licence allows embedding and redistribution, and the renamed fonts keep
// their licence in the `name` table), cut down to the scripts people's names
// and notes are written in here and stripped of hinting, so the files the
// service worker precaches stay small. The app fetches them only when it
// makes a PDF (src/export/pdf-fonts.ts). Runs in Node, from vite.config.ts and
// from the tests.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Plugin } from "vite";
import { parseTrueType, subsetTrueType } from "../src/export/truetype.ts";

/** The Unicode blocks kept: Latin in full (Welsh, Polish, Hungarian, Vietnamese…), Greek, Cyrillic, punctuation and common symbols. */
export const PDF_FONT_RANGES: readonly [number, number][] = [
  [0x0020, 0x007e], // Basic Latin
  [0x00a0, 0x024f], // Latin-1 Supplement, Latin Extended-A and -B
  [0x02b0, 0x02ff], // spacing modifier letters (ʼ ˆ ˜)
  [0x0300, 0x036f], // combining diacritical marks
  [0x0370, 0x03ff], // Greek
  [0x0400, 0x04ff], // Cyrillic
  [0x1e00, 0x1eff], // Latin Extended Additional (ẁ ẃ ẅ ỳ, Vietnamese)
  [0x2000, 0x206f], // general punctuation: dashes, curly quotes, ellipsis
  [0x2070, 0x20cf], // superscripts, subscripts, currency signs
  [0x2100, 0x218f], // letterlike symbols, number forms (№ ™ ½)
  [0x2190, 0x21ff], // arrows
  [0x2212, 0x221e], // minus, square root, infinity
  [0x2248, 0x2248], // almost equal
  [0x2260, 0x2265], // not equal, less or equal, greater or equal
  [0x25a0, 0x25ff], // geometric shapes (bullets, boxes)
  [0x2605, 0x2606], // stars
  [0x2610, 0x2612], // ballot boxes
  [0x2713, 0x2718], // ticks and crosses
  [0xfb00, 0xfb06], // Latin ligatures (ﬁ ﬂ in pasted text)
  [0xfffd, 0xfffd], // the replacement character
];

export type PdfFontName = "regular" | "bold";

const SOURCES: Record<PdfFontName, string> = {
  regular: "dejavu-fonts-ttf/ttf/DejaVuSans.ttf",
  bold: "dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf",
};

export interface PdfFontFile {
  name: PdfFontName;
  /** Where it is in the built app, its content's hash in the name (so it may be cached for a year). */
  fileName: string;
  bytes: Uint8Array;
}

let built: PdfFontFile[] | null = null;

/** The two subset fonts, made once per process. */
export function pdfFontFiles(): PdfFontFile[] {
  if (built) return built;
  const require = createRequire(import.meta.url);
  const codePoints: number[] = [];
  for (const [start, end] of PDF_FONT_RANGES) for (let c = start; c <= end; c++) codePoints.push(c);
  built = (Object.keys(SOURCES) as PdfFontName[]).map((name) => {
    const font = parseTrueType(new Uint8Array(readFileSync(require.resolve(SOURCES[name]))));
    const glyphs = codePoints.map((c) => font.glyphFor(c)).filter((g) => g !== 0);
    const { bytes } = subsetTrueType(font, glyphs, { cmap: codePoints, copy: ["name", "OS/2", "post"] });
    const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 8);
    return { name, fileName: `assets/pdf-font-${name}-${hash}.ttf`, bytes };
  });
  return built;
}

/**
 * Adds the fonts to the build (and serves them in development), and tells
 * the app where they are as the constant `__PDF_FONT_FILES__`.
 */
export function pdfFontsPlugin(): Plugin {
  let base = "/";
  return {
    name: "fieldbook-pdf-fonts",
    config: (config) => {
      const files = Object.fromEntries(pdfFontFiles().map((file) => [file.name, `${config.base ?? "/"}${file.fileName}`]));
      return { define: { __PDF_FONT_FILES__: JSON.stringify(files) } };
    },
    configResolved: (config) => {
      base = config.base;
    },
    configureServer: (server) => {
      server.middlewares.use((request, response, next) => {
        const file = pdfFontFiles().find((f) => request.url === `${base}${f.fileName}`);
        if (!file) return next();
        response.setHeader("Content-Type", "font/ttf");
        response.end(file.bytes);
      });
    },
    generateBundle() {
      for (const file of pdfFontFiles()) this.emitFile({ type: "asset", fileName: file.fileName, source: file.bytes });
    },
  };
}
