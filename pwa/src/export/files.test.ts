import { afterEach, describe, expect, test, vi } from "vitest";
import { pdfFontFiles } from "../../scripts/pdf-fonts";
import { COMPLETE_PEER, makeEntry } from "../sync/testing";
import { registrationYear } from "../cpd/year";
import { parseCsv } from "./csv";
import { exportFile, remindersFile } from "./files";
import { parseExport } from "./json";

const now = new Date("2026-11-22T10:00:00Z");
const year = registrationYear(2025);
const entries = [{ id: "a", entry: makeEntry({ title: "One", peerReflection: COMPLETE_PEER }) }, { id: "b", entry: makeEntry({ title: "Two" }) }];

/** The app's server, as far as the PDF's fonts go: it has the files the build made, or is out of reach. */
function serveFonts(reachable: boolean): void {
  vi.stubGlobal("fetch", async (url: string) => {
    if (!reachable) throw new TypeError("Failed to fetch");
    const file = pdfFontFiles().find((f) => url === `/${f.fileName}`);
    return file ? new Response(file.bytes.slice()) : new Response("Not found", { status: 404 });
  });
}

describe("export files", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  test("PDF without its fonts: a plain error saying why", async () => {
    serveFonts(false);
    await expect(exportFile({ kind: "pdf", entries, year, now })).rejects.toThrow("the font for PDFs is not on this device yet");
  });

  test("PDF, loaded lazily with the fonts the build made", async () => {
    serveFonts(true);
    const file = await exportFile({ kind: "pdf", entries, year, now, owner: { name: "Sam", registrationNumber: "SW123456" } });
    expect(file.fileName).toBe("fieldbook-cpd-2025-26.pdf");
    expect(file.mimeType).toBe("application/pdf");
    expect(file.data).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode((file.data as Uint8Array).slice(0, 5))).toBe("%PDF-");
  });

  test("CSV", async () => {
    const file = await exportFile({ kind: "csv", entries, year, now });
    expect(file).toMatchObject({ fileName: "fieldbook-cpd-2025-26.csv", mimeType: "text/csv;charset=utf-8" });
    expect(parseCsv(file.data as string)).toHaveLength(3);
  });

  test("JSON, dated by the day when there is no year", async () => {
    const file = await exportFile({ kind: "json", entries, now });
    expect(file).toMatchObject({ fileName: "fieldbook-cpd-2026-11-22.json", mimeType: "application/json" });
    expect(parseExport(file.data as string).entries).toEqual(entries);
  });

  test("plain text", async () => {
    const file = await exportFile({ kind: "txt", entries, year, now });
    expect(file.fileName).toBe("fieldbook-cpd-2025-26.txt");
    const text = file.data as string;
    expect(text.startsWith("\ufeffOne\r\n\r\nType of CPD:")).toBe(true);
    expect(text).toContain("\r\n\r\n----------\r\n\r\nTwo\r\n");
    expect(text.replace(/\r\n/g, "")).not.toMatch(/\n/);
  });

  test("reminders", () => {
    const file = remindersFile(year, new Date("2025-11-01T00:00:00Z"));
    expect(file).toMatchObject({ fileName: "fieldbook-reminders-2025-26.ics", mimeType: "text/calendar;charset=utf-8" });
    expect((file.data as string).startsWith("BEGIN:VCALENDAR\r\n")).toBe(true);
  });
});
