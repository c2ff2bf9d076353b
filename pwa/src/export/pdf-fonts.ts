// The fonts a PDF is written in, and their metrics for laying text out:
// DejaVu Sans and DejaVu Sans Bold, cut down at build time
// (scripts/pdf-fonts.ts) and fetched only when a PDF is made. The service
// worker precaches them with the rest of the app, so PDFs can be made offline.
// Italic is the regular font slanted (pdf-writer.ts), which saves a third file.

import { parseTrueType, type TrueTypeFont } from "./truetype";

export type FontId = "regular" | "bold" | "italic";

/** Where the build put the fonts (set by scripts/pdf-fonts.ts through Vite's `define`). */
declare const __PDF_FONT_FILES__: { regular: string; bold: string };

/**
 * Text as the fonts take it: Unicode NFC, tabs and unusual spaces as spaces,
 * line breaks kept, other control and invisible characters dropped.
 */
export function cleanText(text: string): string {
  return text
    .normalize("NFC")
    .replace(/[\t\u2000-\u200a\u202f\u205f\u3000\u2028\u2029]/g, " ")
    .replace(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2060\ufeff\ufe00-\ufe0f]/g, "");
}

/** The two fonts and their widths. */
export class PdfFonts {
  constructor(
    readonly regular: TrueTypeFont,
    readonly bold: TrueTypeFont,
  ) {}

  /** The font file a style is drawn with. */
  file(font: FontId): TrueTypeFont {
    return font === "bold" ? this.bold : this.regular;
  }

  /** The width of a line of text in points. */
  width(text: string, font: FontId, size: number): number {
    const file = this.file(font);
    let units = 0;
    for (const char of cleanText(text)) units += file.advance(file.glyphFor(char.codePointAt(0)!));
    return (units * size) / file.unitsPerEm;
  }

  /**
   * Wraps text to lines no wider than maxWidth. Line breaks in the text are
   * kept (a blank line stays blank); words longer than a line are split.
   */
  wrap(text: string, font: FontId, size: number, maxWidth: number): string[] {
    const lines: string[] = [];
    for (const paragraph of cleanText(text).split(/\r\n?|\n/)) {
      const words = paragraph.split(/ +/).filter((word) => word !== "");
      if (words.length === 0) {
        lines.push("");
        continue;
      }
      let line = "";
      for (let word of words) {
        const candidate = line ? `${line} ${word}` : word;
        if (this.width(candidate, font, size) <= maxWidth) {
          line = candidate;
          continue;
        }
        if (line) lines.push(line);
        line = "";
        while (this.width(word, font, size) > maxWidth) {
          // Split a very long word (a URL) at the most characters that fit, never inside a surrogate pair.
          const chars = [...word];
          let cut = 1;
          while (cut < chars.length && this.width(chars.slice(0, cut + 1).join(""), font, size) <= maxWidth) cut++;
          lines.push(chars.slice(0, cut).join(""));
          word = chars.slice(cut).join("");
        }
        line = word;
      }
      lines.push(line);
    }
    return lines;
  }
}

/** Reads the fonts from font files' bytes. */
export function pdfFontsFrom(regular: Uint8Array, bold: Uint8Array): PdfFonts {
  return new PdfFonts(parseTrueType(regular), parseTrueType(bold));
}

let loading: Promise<PdfFonts> | null = null;

/** Fetches the fonts (from the service worker's cache when offline), once per page. */
export function loadPdfFonts(): Promise<PdfFonts> {
  loading ??= Promise.all(
    [__PDF_FONT_FILES__.regular, __PDF_FONT_FILES__.bold].map(async (url) => {
      const response = await fetch(url).catch(() => null);
      if (!response?.ok) throw new Error("the font for PDFs is not on this device yet. Connect to the internet once and try again.");
      return new Uint8Array(await response.arrayBuffer());
    }),
  ).then(([regular, bold]) => pdfFontsFrom(regular, bold));
  loading.catch(() => (loading = null));
  return loading;
}
