import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { COMPLETE_PEER, makeEntry } from "../sync/testing";
import { newDraft, newNote, type EntryDoc } from "../sync/schema";
import { buildExport, EXPORT_FORMAT, EXPORT_FORMAT_VERSION, exportJson, ExportFormatError, parseEntry, parseExport, plainEntry } from "./json";

const now = new Date("2026-11-22T10:00:00Z");
const example: EntryDoc = JSON.parse(readFileSync(new URL("../../../shared/tests/fixtures/entry.json", import.meta.url), "utf8"));

function full(): EntryDoc {
  const entry = makeEntry({
    title: "Émigré family – “interpreter” 😀",
    peerReflection: COMPLETE_PEER,
    standards: ["4.1"],
    pcf: ["knowledge", "values-and-ethics"],
    tags: ["a", "b"],
    status: "recorded",
    recordedOnSweAt: 1_790_000_000_000,
    dismissedFlags: ["name:Mrs Patel"],
    evidence: [{ id: "Zp3kQ8vN2xLm5Rt7Wy1aBc", name: "Certificate – Été.pdf", mimeType: "application/pdf", size: 184_320, addedAt: 1_780_000_200_000 }],
  });
  entry.notes.push({ id: "voice-1", createdAt: 1_780_000_100_000, device: "Laptop", kind: "voice", text: "", audio: "audio/voice-1.webm", transcript: "Spoken words." });
  return entry;
}

function errorOf(run: () => unknown): ExportFormatError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ExportFormatError);
    return error as ExportFormatError;
  }
  throw new Error("expected an ExportFormatError");
}

describe("export", () => {
  test("has a format name, version, time and every field of every entry", () => {
    const entry = full();
    const data = JSON.parse(exportJson([{ id: "doc-1", entry }, { entry: example }], now));
    expect(data.format).toBe(EXPORT_FORMAT);
    expect(data.formatVersion).toBe(EXPORT_FORMAT_VERSION);
    expect(data.exportedAt).toBe("2026-11-22T10:00:00.000Z");
    expect(data.entries[0]).toEqual({ id: "doc-1", entry });
    expect(data.entries[1]).toEqual({ entry: example });
    expect(Object.keys(data.entries[1].entry).sort()).toEqual(Object.keys(example).sort());
  });

  test("keeps only the schema's fields and copies, so later changes to the entry do not leak in", () => {
    const entry = { ...full(), extra: "not part of the schema" } as EntryDoc;
    const copy = plainEntry(entry);
    expect("extra" in copy).toBe(false);
    entry.notes[0].text = "changed";
    entry.tags.push("changed");
    expect(copy.notes[0].text).not.toBe("changed");
    expect(copy.tags).not.toContain("changed");
  });
});

describe("round trips", () => {
  test("entries come back exactly", () => {
    const items = [{ id: "doc-1", entry: full() }, { id: "doc-2", entry: example }, { entry: newDraft(newNote("n1", "Phone", "Only a note", 1_780_000_000_000)) }];
    const back = parseExport(exportJson(items, now));
    expect(back.entries).toEqual(items);
    expect(back.exportedAt).toBe(now.toISOString());
    expect(back.formatVersion).toBe(1);
  });

  test("twice round is the same text", () => {
    const text = exportJson([{ id: "x", entry: full() }], now);
    const back = parseExport(text);
    expect(exportJson(back.entries, new Date(back.exportedAt))).toBe(text);
  });

  test("an empty export", () => {
    expect(parseExport(exportJson([], now)).entries).toEqual([]);
  });

  test("a byte order mark at the start is fine", () => {
    expect(parseExport(`\ufeff${exportJson([], now)}`).entries).toEqual([]);
  });

  test("optional lists missing from an older file default to empty; unknown keys are dropped", () => {
    const data = buildExport([{ entry: full() }], now) as unknown as { entries: { entry: Record<string, unknown> }[] };
    delete data.entries[0].entry.dismissedFlags;
    delete data.entries[0].entry.tags;
    delete data.entries[0].entry.evidence;
    data.entries[0].entry.somethingNew = 1;
    const back = parseExport(JSON.stringify(data)).entries[0].entry;
    expect(back.dismissedFlags).toEqual([]);
    expect(back.evidence).toEqual([]);
    expect(back.tags).toEqual([]);
    expect("somethingNew" in back).toBe(false);
  });
});

describe("bad files are refused with a clear message", () => {
  const good = () => buildExport([{ id: "doc-1", entry: full() }], now) as unknown as Record<string, any>;

  test("not JSON, not an object, not ours, a newer version", () => {
    expect(errorOf(() => parseExport("{not json")).message).toMatch(/^This is not a JSON file/);
    expect(errorOf(() => parseExport("")).message).toMatch(/^This is not a JSON file/);
    expect(errorOf(() => parseExport("[1,2]")).message).toBe("This is not a Fieldbook export: expected an object, found a list.");
    expect(errorOf(() => parseExport('{"format":"other"}')).message).toBe('This is not a Fieldbook export (its "format" is the text "other").');
    const newer = { ...good(), formatVersion: 2 };
    expect(errorOf(() => parseExport(JSON.stringify(newer))).message).toMatch(/newer version of Fieldbook \(format 2\)/);
    expect(errorOf(() => parseExport(JSON.stringify({ ...good(), formatVersion: "1" }))).message).toBe('formatVersion: expected a format version number, found the text "1"');
    expect(errorOf(() => parseExport(JSON.stringify({ ...good(), exportedAt: "yesterday" }))).path).toBe("exportedAt");
    expect(errorOf(() => parseExport(JSON.stringify({ ...good(), entries: {} }))).message).toBe("entries: expected a list of entries, found an object");
  });

  const cases: [string, (data: Record<string, any>) => void, string][] = [
    ["entry not an object", (d) => (d.entries[0] = "x"), "entries[0]: expected an object, found the text \"x\""],
    ["no entry", (d) => delete d.entries[0].entry, "entries[0].entry: expected an object, found nothing"],
    ["wrong type", (d) => (d.entries[0].entry.type = "fieldbook/root"), 'entries[0].entry.type: expected "fieldbook/entry", found the text "fieldbook/root"'],
    ["newer schema", (d) => (d.entries[0].entry.schemaVersion = 99), "entries[0].entry.schemaVersion: this entry was made by a newer version of Fieldbook (schema 99); update the app and try again"],
    ["bad status", (d) => (d.entries[0].entry.status = "done"), 'entries[0].entry.status: expected "draft", "ready" or "recorded", found the text "done"'],
    ["bad date", (d) => (d.entries[0].entry.activityDate = "10/03/2026"), 'entries[0].entry.activityDate: expected a date written YYYY-MM-DD, or null, found the text "10/03/2026"'],
    ["impossible date", (d) => (d.entries[0].entry.activityDate = "2026-02-30"), "entries[0].entry.activityDate: expected a date written YYYY-MM-DD"],
    ["text as number", (d) => (d.entries[0].entry.learning = 5), "entries[0].entry.learning: expected text, found number 5"],
    ["bad time", (d) => (d.entries[0].entry.createdAt = "today"), "entries[0].entry.createdAt: expected a time in milliseconds"],
    ["negative time", (d) => (d.entries[0].entry.updatedAt = -1), "entries[0].entry.updatedAt: expected a time in milliseconds"],
    ["peer not an object", (d) => (d.entries[0].entry.peerReflection = "yes"), "entries[0].entry.peerReflection: expected an object"],
    ["peer bad date", (d) => (d.entries[0].entry.peerReflection.discussedOn = "soon"), "entries[0].entry.peerReflection.discussedOn: expected a date"],
    ["tags not a list", (d) => (d.entries[0].entry.tags = "a,b"), "entries[0].entry.tags: expected a list of texts"],
    ["tag not text", (d) => (d.entries[0].entry.standards = ["4.1", 4]), "entries[0].entry.standards[1]: expected text, found number 4"],
    ["notes not a list", (d) => (d.entries[0].entry.notes = {}), "entries[0].entry.notes: expected a list of notes"],
    ["note bad kind", (d) => (d.entries[0].entry.notes[1].kind = "video"), 'entries[0].entry.notes[1].kind: expected "text" or "voice", found the text "video"'],
    ["note without id", (d) => (d.entries[0].entry.notes[0].id = ""), "entries[0].entry.notes[0].id: a note needs an id"],
    ["duplicate note ids", (d) => (d.entries[0].entry.notes[1].id = d.entries[0].entry.notes[0].id), "entries[0].entry.notes[1].id: two notes have the id"],
    ["duplicate entry ids", (d) => d.entries.push(structuredClone(d.entries[0])), 'entries[1].id: two entries have the id "doc-1"'],
    ["id not text", (d) => (d.entries[0].id = 7), "entries[0].id: expected text, found number 7"],
    ["evidence not a list", (d) => (d.entries[0].entry.evidence = "cert.pdf"), "entries[0].entry.evidence: expected a list of evidence files"],
    ["evidence without id", (d) => (d.entries[0].entry.evidence[0].id = ""), "entries[0].entry.evidence[0].id: an evidence file needs an id"],
    ["evidence bad size", (d) => (d.entries[0].entry.evidence[0].size = "big"), 'entries[0].entry.evidence[0].size: expected a size in bytes, found the text "big"'],
  ];
  for (const [name, spoil, message] of cases) {
    test(name, () => {
      const data = good();
      spoil(data);
      const error = errorOf(() => parseExport(JSON.stringify(data)));
      expect(error.message.startsWith(message), `${error.message}\n  does not start with\n${message}`).toBe(true);
    });
  }

  test("parseEntry on its own", () => {
    expect(parseEntry(example)).toEqual(example);
    expect(errorOf(() => parseEntry(null)).message).toBe("entry: expected an object, found null");
  });
});
