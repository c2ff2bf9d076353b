// The TypeScript engine: unit tests, and conformance with the Rust engine —
// on the whole labelled corpus its flags must equal the Rust engine's output
// committed as shared/tests/fixtures/anonymisation_expected.jsonl.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  createDetector,
  findIdentifyingDetails,
  nhsNumberIsValid,
  RulesError,
  ukPhoneIsPlausible,
  type Flag,
  type RulesSpec,
} from "./index";

function fixture(name: string): string {
  return readFileSync(new URL(`../../../shared/tests/fixtures/${name}`, import.meta.url), "utf8");
}

function jsonLines<T>(text: string): T[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

const found = (text: string) => findIdentifyingDetails(text).map((f) => [f.kind, f.text]);

describe.each([
  ["anonymisation_corpus.jsonl", "anonymisation_expected.jsonl"],
  ["anonymisation_heldout.jsonl", "anonymisation_heldout_expected.jsonl"],
])("conformance with the Rust engine on %s", (corpusFile, expectedFile) => {
  const corpus = jsonLines<{ id: string; text: string }>(fixture(corpusFile));
  const expected = jsonLines<{ id: string; flags: Flag[] }>(fixture(expectedFile));

  test("the snippets and the expected output line up", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(100);
    expect(expected.map((e) => e.id)).toEqual(corpus.map((s) => s.id));
  });

  test("every snippet gets exactly the Rust engine's flags", () => {
    const byId = new Map(expected.map((e) => [e.id, e.flags]));
    for (const snippet of corpus) {
      expect({ id: snippet.id, flags: findIdentifyingDetails(snippet.text) }).toEqual({
        id: snippet.id,
        flags: byId.get(snippet.id),
      });
    }
    // Not vacuous: each file has dozens of flags.
    expect(expected.flatMap((e) => e.flags).length).toBeGreaterThan(50);
  });
});

test("conformance with the Rust engine on generated edge cases", () => {
  // Astral characters, combining marks, newlines, near-miss numbers, case
  // changes: shared/src/anonymise/tests.rs writes these with its flags.
  const lines = jsonLines<{ id: string; text: string; flags: Flag[] }>(fixture("anonymisation_edge_expected.jsonl"));
  expect(lines.length).toBe(400);
  for (const line of lines) {
    expect({ id: line.id, flags: findIdentifyingDetails(line.text) }).toEqual({ id: line.id, flags: line.flags });
  }
  expect(lines.flatMap((l) => l.flags).length).toBeGreaterThan(300);
});

describe("findIdentifyingDetails", () => {
  test("names with titles, first names, relationships and ages", () => {
    expect(found("I met Mrs Okafor at the door.")).toEqual([["name", "Mrs Okafor"]]);
    expect(found("I saw Jade Monday morning.")).toEqual([["name", "Jade"]]);
    expect(found("her son Kaydenz was asleep")).toEqual([["name", "Kaydenz"]]);
    expect(found("Will I cope? Hope so.")).toEqual([]);
    expect(found("Mrs B and Child A were present.")).toEqual([]);
  });

  test("a full name is described as a full name, a first name alone as a first name", () => {
    const [full] = findIdentifyingDetails("Tom Baker, DOB 12/03/2015");
    expect([full.text, full.why]).toEqual(["Tom Baker", expect.stringContaining("a person's full name")]);
    const [first] = findIdentifyingDetails("I saw Jade Monday morning.");
    expect([first.text, first.why]).toEqual(["Jade", expect.stringContaining("a person's first name")]);
    expect(findIdentifyingDetails("Grace Adeyemi rang.")[0].why).toContain("full name");
  });

  test("street names with abbreviations after a house number", () => {
    for (const address of ["22 Hill St", "4 Park Rd", "7a Elm Ave", "12 Mill Ln", "3 Oak Cl", "9 Beech Dr", "15 Rose Cres", "2 Ash Gr", "8 Stone Tce", "1 Kings Pl", "6 Hope Ct", "40 Lime Gdns", "5 Market Sq"]) {
      expect(found(`They live at ${address}. now`), address).toEqual([["address", address]]);
    }
    // Without a number, "St" is as likely Saint.
    expect(found("The service at St Mary's.").filter(([kind]) => kind === "address")).toEqual([]);
  });

  test("dates of birth in every common format", () => {
    for (const date of ["12/03/2015", "12-03-2015", "12.03.2015", "12 March 2015", "12th Mar 2015", "12th of March 2015", "March 12th, 2015", "2015-03-12", "12/3/15", "12-Mar-2015", "12 Mar 15"]) {
      for (const cue of ["DOB", "DOB:", "D.O.B.", "dob -", "date of birth", "born on"]) {
        expect(found(`Child, ${cue} ${date}, at home`), `${cue} ${date}`).toEqual([["date_of_birth", date]]);
      }
    }
    // Without a cue a full date is still flagged, as a date.
    expect(found("Seen on 2015-03-12 at home")).toEqual([["date", "2015-03-12"]]);
    expect(found("Seen on 12-Mar-2015 at home")).toEqual([["date", "12-Mar-2015"]]);
  });

  test("every kind, each with a reason", () => {
    const flags = findIdentifyingDetails(
      "Mrs Okafor, DOB 1/2/2015, 14 Oak Road LS8 2QT, 07700 900123, a@b.org, " +
        "943 476 5919, AB 12 34 56 C, case no. 55512, Harehills Primary School, on 3 May 2024",
    );
    expect([...new Set(flags.map((f) => f.kind))].sort()).toEqual(
      [
        "name",
        "date_of_birth",
        "date",
        "address",
        "postcode",
        "phone",
        "email",
        "nhs_number",
        "ni_number",
        "reference",
        "school_or_workplace",
      ].sort(),
    );
    for (const flag of flags) expect(flag.why.length).toBeGreaterThan(30);
  });

  test("places, professions, legislation and standards are not flagged", () => {
    for (const text of [
      "I visited a family in Leeds and then drove back to the Midlands.",
      "The health visitor, the GP and the IRO agreed the plan.",
      "Under the Children Act 1989 and Section 47, and the Care Act 2014.",
      "The Mental Capacity Act 2005 two-stage test; the PCF; Gibbs' cycle.",
      "This maps to standard 4.2 and to standards 3.1 and 4.8.",
    ]) {
      expect(found(text)).toEqual([]);
    }
  });

  test("offsets count characters (code points), not UTF-16 units", () => {
    const text = "Zoë 🙂 met Jade at 14 Oak Road";
    const flags = findIdentifyingDetails(text);
    expect(flags.map((f) => [f.start, f.end, f.text])).toEqual([
      [0, 3, "Zoë"],
      [10, 14, "Jade"],
      [18, 29, "14 Oak Road"],
    ]);
    const chars = [...text];
    for (const f of flags) expect(chars.slice(f.start, f.end).join("")).toBe(f.text);
  });

  test("a match inside a word is not flagged, even next to astral characters", () => {
    expect(found("Benedictine and Jadeite")).toEqual([]);
    // Astral characters are two UTF-16 units: a letter joins the word, an emoji does not.
    expect(found("𝐀Jade")).toEqual([]);
    expect(found("🙂Jade")).toEqual([["name", "Jade"]]);
  });
});

test("NHS numbers need a valid mod-11 check digit", () => {
  expect(nhsNumberIsValid("943 476 5919")).toBe(true);
  expect(nhsNumberIsValid("943-476-5919")).toBe(true);
  expect(nhsNumberIsValid("9434765918")).toBe(false);
  expect(nhsNumberIsValid("0000000060")).toBe(false);
  expect(nhsNumberIsValid("401023213")).toBe(false);
  expect(found("943 476 5918")).toEqual([]);
});

test("phone numbers have ten or eleven national digits", () => {
  expect(ukPhoneIsPlausible("07700 900123")).toBe(true);
  expect(ukPhoneIsPlausible("+44 (0)113 496 0000")).toBe(true);
  expect(ukPhoneIsPlausible("+44 113 496 0000")).toBe(true);
  expect(ukPhoneIsPlausible("0800 1111")).toBe(false);
  expect(ukPhoneIsPlausible("00 44 113 496 00")).toBe(false);
});

test("bad rules are refused", () => {
  const spec = (rule: object): RulesSpec =>
    ({
      version: 1,
      word_char: "[\\p{L}]",
      fragments: { f: "x" },
      lists: { l: ["Mr", "Mrs"] },
      exclusions: { phrases: [] },
      rules: [{ id: "r", kind: "name", why: "w", ...rule }],
    }) as RulesSpec;
  expect(() => createDetector(spec({ pattern: "{nope}" }))).toThrow(/no fragment or list called \{nope\}/);
  expect(() => createDetector(spec({ pattern: "a(" }))).toThrow(RulesError);
  expect(() => createDetector(spec({ pattern: "a", group: 1 }))).toThrow(/no capture group 1/);
  expect(() => createDetector(spec({ pattern: "(a)", require_group_in: [{ group: 2, lists: ["l"] }] }))).toThrow(
    /no capture group 2/,
  );
  expect(() => createDetector(spec({ pattern: "a*" }))).toThrow(/matches empty/);
  expect(() => createDetector(spec({ pattern: "a", trim_leading: ["none"] }))).toThrow(/no list called none/);
  expect(() => createDetector(spec({ pattern: "a", frobnicate: true }))).toThrow(/unknown field frobnicate/);
  const flags = createDetector(spec({ pattern: "{l} [0-9]{2}{f}" })).find("Mrs 12x");
  expect(flags.map((f) => f.text)).toEqual(["Mrs 12x"]);
  const lookedUp = createDetector(
    spec({ pattern: "([A-Z][a-z]+) [0-9]", require_group_in: [{ group: 1, lists: ["l"] }] }),
  ).find("Mrs 1, Mr 2, Dr 3");
  expect(lookedUp.map((f) => f.text)).toEqual(["Mrs 1", "Mr 2"]);
});
