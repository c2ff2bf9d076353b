import { describe, expect, test } from "vitest";
import { COMPLETE_PEER, makeEntry } from "../cpd/testing";
import { registrationYear } from "../cpd/year";
import { parseCsv } from "./csv";
import { exportFile, remindersFile } from "./files";
import { parseExport } from "./json";

const now = new Date("2026-11-22T10:00:00Z");
const year = registrationYear(2025);
const entries = [{ id: "a", entry: makeEntry({ title: "One", peerReflection: COMPLETE_PEER }) }, { id: "b", entry: makeEntry({ title: "Two" }) }];

describe("export files", () => {
  test("PDF, loaded lazily", async () => {
    const file = await exportFile({ kind: "pdf", entries, year, now, name: "Sam" });
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
