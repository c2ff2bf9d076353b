// The font subsetter, on the fonts the build makes from DejaVu Sans.
import { describe, expect, test } from "vitest";
import { pdfFontFiles } from "../../scripts/pdf-fonts";
import { parseTrueType, subsetTrueType } from "./truetype";

describe("TrueType subsets", () => {
  const [regular] = pdfFontFiles();
  const font = parseTrueType(regular.bytes);

  test("the build's font keeps the Latin, Greek and Cyrillic letters and its licence", () => {
    for (const char of "Siân Ŵyn ŷ Łukasz Győző “ – ” ẁ Ελένη Олена ✓") expect(font.glyphFor(char.codePointAt(0)!), char).not.toBe(0);
    expect(font.glyphFor(0x4e00)).toBe(0); // 一: CJK is not kept
    expect(new TextDecoder("latin1").decode(regular.bytes)).toContain("B\0i\0t\0s\0t\0r\0e\0a\0m");
    expect(font.unitsPerEm).toBe(2048);
    expect(font.advance(font.glyphFor(0x20))).toBeGreaterThan(0);
  });

  test("a subset holds only the chosen glyphs and the parts of composite ones, with the same widths", () => {
    const chars = [..."Győző ŵ"].map((c) => c.codePointAt(0)!);
    const glyphs = chars.map((c) => font.glyphFor(c));
    const subset = subsetTrueType(font, glyphs);
    const again = parseTrueType(subset.bytes.slice());
    expect(again.numGlyphs).toBeGreaterThanOrEqual(new Set(glyphs).size + 1);
    expect(again.numGlyphs).toBeLessThan(20);
    for (const g of glyphs) expect(again.advance(subset.glyphs.get(g)!)).toBe(font.advance(g));
    expect(subset.glyphs.get(0)).toBe(0);
    expect(subset.bytes.length).toBeLessThan(4000);
  });
});
