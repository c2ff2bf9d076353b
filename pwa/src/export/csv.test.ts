import { describe, expect, test } from "vitest";
import { SWE_LABELS, PEER_QUESTION } from "../cpd/rules";
import { COMPLETE_PEER, makeEntry } from "../sync/testing";
import { CSV_COLUMNS, csvField, entriesToCsv, exportFileName, guardCell, parseCsv, toCsv, unguardCell } from "./csv";

describe("RFC 4180", () => {
  test("fields are quoted only when they need to be, quotes doubled", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("cr\rhere")).toBe('"cr\rhere"');
    expect(csvField(" padded ")).toBe('" padded "');
    expect(csvField("")).toBe("");
  });

  test("records end with CRLF", () => {
    expect(toCsv([["a", "b"], ["c", "d,e"]])).toBe('a,b\r\nc,"d,e"\r\n');
  });

  test("parse: quotes, commas, line breaks in fields, empty fields, LF-only files, a last line with no break", () => {
    expect(parseCsv('a,"b,c","d ""q"""\r\n"x\r\ny",,z\r\n')).toEqual([
      ["a", "b,c", 'd "q"'],
      ["x\r\ny", "", "z"],
    ]);
    expect(parseCsv("a,b\nc,d")).toEqual([
      ["a", "b"],
      ["c", "d"],
    ]);
    expect(parseCsv("\ufeffa\r\n")).toEqual([["a"]]);
    expect(parseCsv('""\r\n')).toEqual([[""]]);
    expect(parseCsv("a,\r\n")).toEqual([["a", ""]]);
    expect(parseCsv("")).toEqual([]);
  });

  test("parse refuses broken quoting", () => {
    expect(() => parseCsv('a,"never closed\r\n')).toThrow(/never closed/);
    expect(() => parseCsv('"a"b,c\r\n')).toThrow(/after a closing quote/);
  });

  test("any rows survive a round trip", () => {
    const rows = [
      ["", ",", '"', "\r\n", "\n\n", " lead", "trail ", "é – “quotes” 😀"],
      ["x", 'a""b', ',"', "\r", "plain", "", "tab\there", "=1+1"],
    ];
    expect(parseCsv(toCsv(rows))).toEqual(rows);
  });
});

describe("formula guard", () => {
  test("cells a spreadsheet would run get an apostrophe, and lose it again", () => {
    for (const value of ["=SUM(A1)", "+44 7700", "- met the family", "@home", "\tx"]) {
      expect(guardCell(value)).toBe(`'${value}`);
      expect(unguardCell(guardCell(value))).toBe(value);
    }
    for (const value of ["plain", "'quoted'", "", "1-2"]) {
      expect(guardCell(value)).toBe(value);
      expect(unguardCell(value)).toBe(value);
    }
  });
});

describe("entries as CSV", () => {
  const entry = makeEntry({
    title: "Interpreters, and \"teach-back\"",
    activityDate: "2026-03-10",
    description: "Line one.\n\nLine two, with a comma.",
    learning: "- brief first\n- check understanding",
    impact: "Families understand – and can challenge – the plan. Café.",
    peerReflection: COMPLETE_PEER,
    standards: ["4.1", "1"],
    pcf: ["knowledge"],
    tags: ["interpreters", "communication"],
    status: "recorded",
    recordedOnSweAt: Date.UTC(2026, 3, 2, 12),
  });

  test("starts with a byte order mark for Excel, has SWE's labels as headers and one row per entry", () => {
    const csv = entriesToCsv([{ id: "doc-1", entry }, { entry: makeEntry({ status: "draft", peerReflection: null }) }]);
    expect(csv.startsWith("\ufeffTitle,")).toBe(true);
    expect(csv.endsWith("\r\n")).toBe(true);
    const rows = parseCsv(csv);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual(CSV_COLUMNS.map((c) => c.header));
    expect(rows[0]).toContain(SWE_LABELS.description);
    expect(rows[0]).toContain(PEER_QUESTION);
    for (const row of rows) expect(row).toHaveLength(CSV_COLUMNS.length);
  });

  test("parses back to the entry's fields", () => {
    const [header, row] = parseCsv(entriesToCsv([{ id: "doc-1", entry }]));
    const cell = (name: string) => unguardCell(row[header.indexOf(name)]);
    expect(cell("Title")).toBe(entry.title);
    expect(cell("Registration year")).toBe("2025–26");
    expect(cell(SWE_LABELS.activityType)).toBe(entry.activityType);
    expect(cell(SWE_LABELS.activityDate)).toBe("2026-03-10");
    expect(cell(SWE_LABELS.description)).toBe(entry.description);
    expect(cell(SWE_LABELS.learning)).toBe(entry.learning);
    expect(row[header.indexOf(SWE_LABELS.learning)]).toBe(`'${entry.learning}`);
    expect(cell(SWE_LABELS.impact)).toBe(entry.impact);
    expect(cell("Peer's professional role")).toBe("Health visitor");
    expect(cell("Date of the discussion")).toBe("2026-03-12");
    expect(cell(PEER_QUESTION)).toBe(COMPLETE_PEER.text);
    expect(cell("Status")).toBe("Recorded on SWE");
    expect(cell("Recorded on SWE")).toBe("2026-04-02");
    expect(cell("SWE standards")).toBe("4.1 Feedback; 1 Promote the rights, strengths and wellbeing of people, families and communities");
    expect(cell("PCF domains")).toBe("Knowledge");
    expect(cell("Tags")).toBe("interpreters; communication");
    expect(cell("Notes")).toBe("Quick note after the visit.");
    expect(cell("Created")).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(cell("Fieldbook id")).toBe("doc-1");
  });

  test("the Notes column holds every note's text, a voice note's transcript, in order; no count", () => {
    const withNotes = makeEntry();
    withNotes.notes.push(
      { ...withNotes.notes[0], id: "n2", text: "Second thought,\nover two lines." },
      { ...withNotes.notes[0], id: "n3", text: "" },
      { ...withNotes.notes[0], id: "n4", kind: "voice", text: "", audio: "a1", transcript: "Spoken in the car." },
    );
    const [header, row] = parseCsv(entriesToCsv([{ entry: withNotes }]));
    expect(row[header.indexOf("Notes")]).toBe("Quick note after the visit.\n\nSecond thought,\nover two lines.\n\nSpoken in the car.");
  });

  test("empty and missing values are empty cells", () => {
    const draft = makeEntry({ status: "draft", activityDate: null, activityType: null, description: "", peerReflection: null, recordedOnSweAt: null });
    const [header, row] = parseCsv(entriesToCsv([{ entry: draft }]));
    for (const name of ["Registration year", SWE_LABELS.activityType, SWE_LABELS.activityDate, SWE_LABELS.description, "Peer's professional role", PEER_QUESTION, "Recorded on SWE", "Fieldbook id"]) {
      expect(row[header.indexOf(name)], name).toBe("");
    }
  });

  test("options: no byte order mark, no guard", () => {
    const csv = entriesToCsv([{ entry }], { bom: false, guardFormulas: false });
    expect(csv.startsWith("Title,")).toBe(true);
    const [header, row] = parseCsv(csv);
    expect(row[header.indexOf(SWE_LABELS.learning)]).toBe(entry.learning);
  });

  test("no entries: just the header", () => {
    expect(parseCsv(entriesToCsv([]))).toEqual([CSV_COLUMNS.map((c) => c.header)]);
  });

  test("file names are ASCII", () => {
    expect(exportFileName("csv", "2025–26")).toBe("fieldbook-cpd-2025-26.csv");
    expect(exportFileName("json", undefined, "2026-03-10")).toBe("fieldbook-cpd-2026-03-10.json");
    expect(exportFileName("pdf")).toBe("fieldbook-cpd.pdf");
  });
});
