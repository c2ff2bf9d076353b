// The PDF is read back with Mozilla's PDF.js (pdfjs-dist, a devDependency),
// so the test checks what a real reader sees, not what the writer meant.
import { describe, expect, test } from "vitest";
import { PEER_QUESTION, SWE_LABELS } from "../cpd/rules";
import { COMPLETE_PEER, makeEntry } from "../sync/testing";
import { registrationYear } from "../cpd/year";
import type { EntryDoc } from "../sync/schema";
import { pdfFontFiles } from "../../scripts/pdf-fonts";
import { portfolioPdf as makePortfolio, type PortfolioOptions } from "./pdf";
import { cleanText, pdfFontsFrom } from "./pdf-fonts";
import { writePdf, type PdfPage } from "./pdf-writer";

// The fonts exactly as the build makes them for the app.
const fonts = pdfFontsFrom(...(pdfFontFiles().map((file) => file.bytes) as [Uint8Array, Uint8Array]));
const portfolioPdf = (options: PortfolioOptions) => makePortfolio(options, fonts);
const textWidth = fonts.width.bind(fonts);
const wrapText = fonts.wrap.bind(fonts);

interface ReadPdf {
  pages: string[][];
  info: Record<string, unknown>;
}

async function readPdf(bytes: Uint8Array): Promise<ReadPdf> {
  const pdfjs = await import("pdfjs-dist/legacy/build/pdf.mjs");
  const doc = await pdfjs.getDocument({
    data: bytes.slice(),
    standardFontDataUrl: new URL("../../node_modules/pdfjs-dist/standard_fonts/", import.meta.url).pathname,
    isEvalSupported: false,
    verbosity: 0,
  }).promise;
  const pages: string[][] = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const content = await page.getTextContent();
    pages.push(content.items.map((item) => ("str" in item ? item.str : "")).filter((s) => s.trim() !== ""));
  }
  const meta = await doc.getMetadata();
  await doc.destroy();
  return { pages, info: meta.info as Record<string, unknown> };
}

/**
 * All the text, lines joined by spaces and spaces collapsed, without the page
 * footers: neither wrapping nor page breaks must matter.
 */
function flat(lines: string[]): string {
  return lines
    .filter((line) => !/^Page \d+ of \d+$/.test(line) && !line.startsWith("CPD portfolio 2025–26 · "))
    .join(" ")
    .replace(/\s+/g, " ");
}

function norm(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

const year = registrationYear(2025);
const now = new Date("2026-11-22T10:00:00Z");

const long = makeEntry({
  title: "Working with an interpreter (home visit)",
  activityDate: "2026-03-10",
  activityType: "Reflection on practice",
  description: Array.from({ length: 40 }, (_, i) => `Sentence ${i + 1} of a long description about the visit, the family's first language and why planning mattered.`).join(" "),
  learning: "Brief the interpreter first.\n\nCheck understanding with teach-back; don't rush.",
  impact: "Families understand the plan – and can challenge it – because I plan “pre-meetings”. Café au lait, naïve, £20, €5.",
  peerReflection: COMPLETE_PEER,
  standards: ["4.1", "1"],
  pcf: ["knowledge"],
  tags: ["interpreters"],
  status: "recorded",
  recordedOnSweAt: Date.UTC(2026, 3, 2, 12),
});
const short = makeEntry({ title: "Podcast on adolescent neglect", activityDate: "2025-12-05", peerReflection: null, status: "ready" });
const draft = makeEntry({ title: "Half-written", activityDate: null, description: "", learning: "", impact: "", status: "draft" });

function options(extra: Partial<PortfolioOptions> = {}): PortfolioOptions {
  return { entries: [{ id: "a", entry: long }, { id: "b", entry: short }], year, owner: { name: "Sam Example", registrationNumber: "SW123456" }, now, ...extra };
}

describe("portfolio PDF", () => {
  test("is a PDF that PDF.js opens, with the year and name in its details", async () => {
    const bytes = await portfolioPdf(options());
    expect(new TextDecoder().decode(bytes.slice(0, 8))).toBe("%PDF-1.4");
    expect(new TextDecoder().decode(bytes.slice(-6))).toBe("%%EOF\n");
    const { info } = await readPdf(bytes);
    expect(info.Title).toBe("CPD portfolio 2025–26");
    expect(info.Author).toBe("Sam Example");
    expect(info.Producer).toBe("Fieldbook");
  });

  test("title page: name, registration year, summary, contents with page numbers", async () => {
    const { pages } = await readPdf(await portfolioPdf(options()));
    const front = flat(pages[0]);
    expect(front).toContain("CPD portfolio");
    expect(front).toContain("Sam Example");
    expect(front).toContain("Social Work England registration year 2025–26");
    expect(front).toContain("1 December 2025 – 30 November 2026");
    expect(front).toContain("Made with Fieldbook on 22 November 2026");
    expect(front).toContain("2 entries.");
    expect(front).toContain("1 recorded on SWE, 1 ready to record, 0 drafts.");
    expect(front).toContain("SWE's minimum is met");
    // Sorted by date: the December podcast first, on page 2; the long entry from page 3.
    const contents = pages[0].slice(pages[0].indexOf("Contents"), -1);
    expect(pages[0].at(-1)).toBe("Page 1 of 4");
    expect(contents).toEqual(["Contents", "5 December 2025", "2", "Podcast on adolescent neglect", "10 March 2026", "3", "Working with an interpreter (home visit)"]);
    expect(flat(pages[1])).toContain("Podcast on adolescent neglect");
    expect(flat(pages[2])).toContain("Working with an interpreter (home visit)");
  });

  test("every SWE label and every text of every entry is in it, wrapped but whole", async () => {
    const { pages } = await readPdf(await portfolioPdf(options()));
    const all = flat(pages.flat());
    for (const entry of [long, short]) {
      for (const text of [entry.description, entry.learning, entry.impact, entry.activityType!]) expect(all).toContain(norm(text));
    }
    for (const label of [SWE_LABELS.activityType, SWE_LABELS.description, SWE_LABELS.learning, SWE_LABELS.impact, PEER_QUESTION]) expect(all).toContain(label);
    expect(all).toContain("10 March 2026");
    expect(all).toContain(COMPLETE_PEER.text);
    expect(all).toContain("Health visitor");
    expect(all).toContain("12 March 2026");
    expect(all).toContain("Recorded on SWE on 2 April 2026");
    expect(all).toContain("4.1 Feedback");
    expect(all).toContain("Knowledge");
    expect(all).toContain("No peer reflection recorded for this entry.");
    // Curly quotes, dashes, accents, pound and euro signs survive (they are in WinAnsi).
    expect(all).toContain("Families understand the plan – and can challenge it – because I plan “pre-meetings”. Café au lait, naïve, £20, €5.");
  });

  test("a long entry runs onto more pages; every page has its number", async () => {
    const { pages } = await readPdf(await portfolioPdf(options({ entries: [{ entry: { ...long, description: `${long.description} ${long.description}` } }] })));
    expect(pages.length).toBeGreaterThanOrEqual(4);
    pages.forEach((lines, i) => expect(lines).toContain(`Page ${i + 1} of ${pages.length}`));
    expect(pages[2]).toContain("CPD portfolio 2025–26 · Sam Example");
  });

  test("lines stay inside the page's margins", async () => {
    const pdfjs = await import("pdfjs-dist/legacy/build/pdf.mjs");
    const doc = await pdfjs.getDocument({ data: await portfolioPdf(options()), isEvalSupported: false, verbosity: 0 }).promise;
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const [, , width, height] = page.view;
      for (const item of (await page.getTextContent()).items) {
        if (!("str" in item)) continue;
        const [x, y] = [item.transform[4], item.transform[5]];
        expect(x).toBeGreaterThanOrEqual(56);
        expect(x + item.width).toBeLessThanOrEqual(width - 56);
        expect(y).toBeGreaterThan(20);
        expect(y).toBeLessThan(height - 50);
      }
    }
    await doc.destroy();
  });

  test("no name, no year: chosen entries; drafts and undated entries shown as they are", async () => {
    const { pages, info } = await readPdf(await portfolioPdf({ entries: [{ entry: draft }, { entry: short }], now }));
    const front = flat(pages[0]);
    expect(front).toContain("Chosen CPD entries");
    expect(front).not.toContain("Sam Example");
    expect(front).toContain("2 entries.");
    expect(info.Title).toBe("CPD portfolio");
    expect(info.Author).toBeUndefined();
    // The undated draft comes last.
    expect(flat(pages[2])).toContain("Half-written");
    expect(flat(pages[2])).toContain("(not filled in)");
  });

  test("entries dated outside the year are flagged", async () => {
    const outside = makeEntry({ title: "Last year's course", activityDate: "2025-11-30" });
    const { pages } = await readPdf(await portfolioPdf(options({ entries: [{ entry: outside }, { entry: draft }] })));
    const all = flat(pages.flat());
    expect(all).toContain("Dated outside the registration year 2025–26: it cannot count for that year.");
    expect(all).toContain("No date yet: it counts for no registration year.");
    expect(all).toContain("2 entries are not dated in this year and cannot count for it.");
  });

  test("notes only when asked for", async () => {
    const withNote: EntryDoc = { ...short, notes: [{ ...short.notes[0], text: "Raw note from the car." }] };
    const without = flat((await readPdf(await portfolioPdf(options({ entries: [{ entry: withNote }] })))).pages.flat());
    expect(without).not.toContain("Raw note from the car.");
    const withNotes = flat((await readPdf(await portfolioPdf(options({ entries: [{ entry: withNote }], includeNotes: true })))).pages.flat());
    expect(withNotes).toContain("Notes captured Raw note from the car.");
  });

  test("evidence is listed by file name and type", async () => {
    const evidence = [
      { id: "ev-1", name: "Interpreting course certificate.pdf", mimeType: "application/pdf", size: 1000, addedAt: 1 },
      { id: "ev-2", name: "Handout page 2.heic", mimeType: "image/heic", size: 2000, addedAt: 2 },
    ];
    const all = flat((await readPdf(await portfolioPdf(options({ entries: [{ entry: { ...short, evidence } }] })))).pages.flat());
    expect(all).toContain("Evidence attached Interpreting course certificate.pdf (PDF) Handout page 2.heic (HEIC photo)");
    const none = flat((await readPdf(await portfolioPdf(options({ entries: [{ entry: short }] })))).pages.flat());
    expect(none).not.toContain("Evidence attached");
  });

  test("letters outside WinAnsi survive: Welsh, Polish, Hungarian names, curly quotes and dashes", async () => {
    const names = "Siân Ŵyn, Łukasz, Győző, “quotes” – dash";
    const odd = makeEntry({ title: names, learning: `${names}. Ŷ ŷ ŵ ẁ ẃ ẅ, Ελένη, Олена, Łódź → plan, ✓ done, −5, naïve, Zoë.` });
    const { pages } = await readPdf(await portfolioPdf(options({ entries: [{ entry: odd }] })));
    const all = flat(pages.flat());
    expect(flat(pages[1])).toContain(names);
    expect(all).toContain(`${names}. Ŷ ŷ ŵ ẁ ẃ ẅ, Ελένη, Олена, Łódź → plan, ✓ done, −5, naïve, Zoë.`);
    // Letter by letter, so a lost one says which.
    for (const char of new Set(names.replace(/\s/g, ""))) expect(all, char).toContain(char);
  });

  test("a character the font lacks prints as a box but still reads as itself", async () => {
    const odd = makeEntry({ title: "Emoji", learning: "Before 😀 after, 日本." });
    const all = flat((await readPdf(await portfolioPdf(options({ entries: [{ entry: odd }] })))).pages.flat());
    expect(all).toContain("Before 😀 after, 日本.");
  });

  test("the cover says whose portfolio it is; without a registration number it leaves that line out", async () => {
    const withBoth = flat((await readPdf(await portfolioPdf(options({ owner: { name: "Siân Ŵyn-Jones", registrationNumber: "SW104523" } })))).pages[0]);
    expect(withBoth).toContain("CPD portfolio Siân Ŵyn-Jones SWE registration number SW104523 Social Work England registration year 2025–26");
    const nameOnly = await readPdf(await portfolioPdf(options({ owner: { name: "Siân Ŵyn-Jones", registrationNumber: "" } })));
    expect(flat(nameOnly.pages[0])).toContain("CPD portfolio Siân Ŵyn-Jones Social Work England registration year");
    expect(flat(nameOnly.pages.flat())).not.toContain("registration number");
    expect(nameOnly.info.Author).toBe("Siân Ŵyn-Jones");
    const numberOnly = flat((await readPdf(await portfolioPdf(options({ owner: { registrationNumber: "SW104523" } })))).pages[0]);
    expect(numberOnly).toContain("CPD portfolio SWE registration number SW104523 Social Work England");
  });

  test("standards and PCF domains are listed in their own order, whatever order they were ticked in", async () => {
    const ticked = makeEntry({ title: "Order", standards: ["4.6", "6", "1", "4.10", "4", "4.1", "2"], pcf: ["knowledge", "professionalism"] });
    const { pages } = await readPdf(await portfolioPdf(options({ entries: [{ entry: ticked }] })));
    const lines = pages[1];
    const standards = lines.slice(lines.indexOf("SWE professional standards") + 1, lines.indexOf("PCF domains"));
    // A long name wraps onto a line of its own; the numbers start the lines.
    expect(standards.filter((line) => /^\d/.test(line)).map((line) => line.split(" ")[0])).toEqual(["1", "2", "4", "4.1", "4.6", "6", "4.10"]);
    const pcf = lines.slice(lines.indexOf("PCF domains") + 1, lines.indexOf("PCF domains") + 3);
    expect(pcf).toEqual(["Professionalism", "Knowledge"]);
  });

  test("uncompressed output reads the same; compressed is smaller", async () => {
    const packed = await portfolioPdf(options());
    const plain = await portfolioPdf(options({ compress: false }));
    expect(packed.length).toBeLessThan(plain.length);
    expect((await readPdf(plain)).pages).toEqual((await readPdf(packed)).pages);
  });

  test("no entries at all still makes a title page", async () => {
    const { pages } = await readPdf(await portfolioPdf({ entries: [], year, now }));
    expect(pages).toHaveLength(1);
    expect(flat(pages[0])).toContain("No entries.");
    expect(pages[0].at(-1)).toBe("Page 1 of 1");
  });

  test("fifty entries: a contents list over more than one page, numbers still right", async () => {
    const many = Array.from({ length: 50 }, (_, i) => ({
      entry: makeEntry({ title: `Entry number ${String(i + 1).padStart(2, "0")}`, activityDate: `2026-0${1 + (i % 9)}-${String(1 + (i % 28)).padStart(2, "0")}` }),
    }));
    const { pages } = await readPdf(await portfolioPdf({ entries: many, year, now }));
    const frontPages = pages.findIndex((lines) => lines[0].startsWith("Entry number"));
    expect(frontPages).toBeGreaterThanOrEqual(2);
    // Each entry's page, as the contents say, starts with that entry's title.
    const front = pages.slice(0, frontPages).flat();
    for (let i = 1; i <= 50; i++) {
      const title = `Entry number ${String(i).padStart(2, "0")}`;
      const at = front.indexOf(title);
      const page = Number(front[at - 1]);
      expect(pages[page - 1][0], title).toBe(title);
    }
  }, 20_000);
});

describe("PDF writer", () => {
  test("text is cleaned of control and invisible characters; tabs and odd spaces become spaces", () => {
    expect(cleanText("a\tb\u200bc\u00a0d\u2003e\u0007f\ng")).toBe("a bc\u00a0d ef\ng");
    expect(cleanText("e\u0301 ŵ")).toBe("é ŵ");
  });

  test("widths come from the fonts' own metrics", () => {
    const advance = (font: "regular" | "bold", char: string) => (font === "bold" ? fonts.bold : fonts.regular).advance(fonts.file(font).glyphFor(char.codePointAt(0)!));
    expect(textWidth("Wŵ", "regular", 10)).toBeCloseTo(((advance("regular", "W") + advance("regular", "ŵ")) * 10) / 2048);
    expect(textWidth("i", "bold", 10)).toBeGreaterThan(textWidth("i", "regular", 10));
    expect(textWidth("i", "italic", 10)).toBe(textWidth("i", "regular", 10));
    expect(textWidth("", "regular", 10)).toBe(0);
  });

  test("wrapping keeps paragraphs and blank lines, fits the width, splits words too long for a line", () => {
    const lines = wrapText("one two three four five six\n\nseven", "regular", 10, 60);
    for (const line of lines) expect(textWidth(line, "regular", 10)).toBeLessThanOrEqual(60);
    expect(lines.join(" ").replace(/\s+/g, " ")).toBe("one two three four five six seven");
    expect(lines).toContain("");
    const url = wrapText("https://example.org/a/very/long/path/that/cannot/fit/on/one/line", "regular", 10, 80);
    expect(url.length).toBeGreaterThan(1);
    expect(url.join("")).toBe("https://example.org/a/very/long/path/that/cannot/fit/on/one/line");
    for (const line of url) expect(textWidth(line, "regular", 10)).toBeLessThanOrEqual(80);
  });

  test("fonts are embedded subsets: CIDFontType2, Identity-H, a ToUnicode map; text as two-byte codes", async () => {
    const page: PdfPage = {
      texts: [
        { text: "a (b) \\ ŵ", x: 10, y: 10, font: "regular", size: 10 },
        { text: "Bold ł", x: 10, y: 30, font: "bold", size: 10 },
        { text: "slanted", x: 10, y: 50, font: "italic", size: 10 },
      ],
      rules: [],
    };
    const bytes = await writePdf([page], fonts, {}, { compress: false });
    const text = new TextDecoder("latin1").decode(bytes);
    expect(text).toContain("/Subtype /Type0 /BaseFont /");
    expect(text.match(/\/Encoding \/Identity-H/g)).toHaveLength(2);
    expect(text.match(/\/Subtype \/CIDFontType2/g)).toHaveLength(2);
    expect(text.match(/\/FontFile2 \d+ 0 R/g)).toHaveLength(2);
    expect(text).toMatch(/\/BaseFont \/[A-Z]{6}\+DejaVuSans /);
    expect(text).toMatch(/\/BaseFont \/[A-Z]{6}\+DejaVuSans-Bold /);
    // Codes 1, 2, 3… in the order the characters first appear: "a", " ", "(", "b", ")", "\\", "ŵ".
    expect(text).toContain("<000100020003000400050002000600020007> Tj");
    expect(text).toContain("<0001> <0061>");
    expect(text).toContain("<0007> <0175>");
    expect(text).toContain("1 0 0.21 1 10 50 Tm");
    expect((await readPdf(bytes)).pages[0]).toEqual(["a (b) \\ ŵ", "Bold ł", "slanted"]);
    // Only the glyphs used: the regular font holds "a (b)\\ŵ" and "slanted", far less than the whole font.
    const lengths = [...text.matchAll(/\/Length1 (\d+)/g)].map((m) => Number(m[1]));
    expect(lengths).toHaveLength(2);
    for (const length of lengths) expect(length).toBeLessThan(8000);
  });

  test("the cross-reference table points at every object", async () => {
    const bytes = await writePdf([{ texts: [], rules: [] }], fonts, { title: "x" }, { compress: false });
    const text = new TextDecoder("latin1").decode(bytes);
    const xref = Number(/startxref\n(\d+)/.exec(text)![1]);
    expect(text.slice(xref, xref + 4)).toBe("xref");
    const offsets = [...text.slice(xref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    offsets.forEach((offset, i) => expect(text.slice(offset, offset + 10)).toMatch(new RegExp(`^${i + 1} 0 obj`)));
  });
});
