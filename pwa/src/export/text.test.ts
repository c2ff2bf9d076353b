import { describe, expect, test } from "vitest";
import { PEER_QUESTION, SWE_LABELS } from "../cpd/rules";
import { COMPLETE_PEER, makeEntry } from "../sync/testing";
import { characterCount, entryAsText, longDate, peerReflectionForSwe, sweDate, sweFields, sweFieldText } from "./text";

describe("sweFieldText", () => {
  test("plain text passes through unchanged", () => {
    const text = "I visited a family with an interpreter.\n\nI learnt to brief the interpreter first.";
    expect(sweFieldText(text)).toBe(text);
  });

  test("white space is tidied: line endings, spaces, blank lines, ends", () => {
    expect(sweFieldText("  One\r\ntwo\rthree  \n\n\n\nfour\t\tfive   six  ")).toBe("One\ntwo\nthree\n\nfour five six");
    expect(sweFieldText("a\u00a0b\u202fc\u2003d")).toBe("a b c d");
    expect(sweFieldText("line\u2028next")).toBe("line\nnext");
    expect(sweFieldText("   \n \n ")).toBe("");
  });

  test("invisible and control characters are dropped", () => {
    expect(sweFieldText("\ufeffzero\u200bwidth\u00ad join\u0007")).toBe("zerowidth join");
  });

  test("composed to NFC, so é is one character", () => {
    const decomposed = "cafe\u0301";
    expect(sweFieldText(decomposed)).toBe("café");
    expect(characterCount(sweFieldText(decomposed))).toBe(4);
  });

  test("markdown emphasis, headings and code marks are removed; bullets and maths stay", () => {
    expect(sweFieldText("## What I learnt\nThis was **really** useful and *new* to me, `MCA 2005`.")).toBe(
      "What I learnt\nThis was really useful and new to me, MCA 2005.",
    );
    expect(sweFieldText("__Key point__: listen")).toBe("Key point: listen");
    expect(sweFieldText("- one\n- two\n• three\n1. four")).toBe("- one\n- two\n• three\n1. four");
    expect(sweFieldText("* one\n* two")).toBe("* one\n* two");
    expect(sweFieldText("2 * 3 * 4 = 24")).toBe("2 * 3 * 4 = 24");
    expect(sweFieldText("Section #5 of the plan")).toBe("Section #5 of the plan");
  });

  test("empty inputs", () => {
    expect(sweFieldText("")).toBe("");
    expect(sweFieldText(null)).toBe("");
    expect(sweFieldText(undefined)).toBe("");
  });

  test("idempotent", () => {
    const messy = "  **A**  b\r\n\r\n\r\n c  ";
    expect(sweFieldText(sweFieldText(messy))).toBe(sweFieldText(messy));
  });
});

describe("dates and counts", () => {
  test("SWE's day/month/year and a long form", () => {
    expect(sweDate("2026-03-09")).toBe("09/03/2026");
    expect(sweDate(null)).toBe("");
    expect(sweDate("2026-02-30")).toBe("");
    expect(longDate("2026-03-09")).toBe("9 March 2026");
    expect(longDate("2025-12-01")).toBe("1 December 2025");
    expect(longDate("")).toBe("");
  });

  test("characters are counted as people count them", () => {
    expect(characterCount("abc")).toBe(3);
    expect(characterCount("😀")).toBe(1);
    expect(characterCount("")).toBe(0);
  });
});

describe("sweFields", () => {
  test("SWE's fields in SWE's order with SWE's labels and counts", () => {
    const entry = makeEntry({ activityDate: "2026-03-10", activityType: "Reading or research", description: "  Read   it.  ", learning: "L", impact: "I\n\n\n\nJ" });
    const fields = sweFields(entry);
    expect(fields.map((f) => f.field)).toEqual(["activityType", "activityDate", "description", "learning", "impact"]);
    expect(fields.map((f) => f.label)).toEqual([SWE_LABELS.activityType, SWE_LABELS.activityDate, SWE_LABELS.description, SWE_LABELS.learning, SWE_LABELS.impact]);
    expect(fields.map((f) => f.text)).toEqual(["Reading or research", "10/03/2026", "Read it.", "L", "I\n\nJ"]);
    expect(fields.map((f) => f.characters)).toEqual([19, 10, 8, 1, 4]);
  });

  test("the peer reflection's role, date and text follow when there is one", () => {
    const fields = sweFields(makeEntry({ peerReflection: COMPLETE_PEER }));
    expect(fields.slice(5)).toEqual([
      { field: "peerReflection.peerRole", label: "Peer's professional role", text: "Health visitor", characters: 14 },
      { field: "peerReflection.discussedOn", label: "Date of the discussion", text: "12/03/2026", characters: 10 },
      { field: "peerReflection.text", label: PEER_QUESTION, text: COMPLETE_PEER.text, characters: COMPLETE_PEER.text.length },
    ]);
    expect(sweFields(makeEntry({ peerReflection: { peerRole: "", discussedOn: null, text: "" } }))).toHaveLength(5);
  });

  test("empty fields are empty strings, never 'null'", () => {
    const fields = sweFields(makeEntry({ activityType: null, activityDate: null, description: "" }));
    expect(fields.slice(0, 3).map((f) => [f.text, f.characters])).toEqual([
      ["", 0],
      ["", 0],
      ["", 0],
    ]);
  });
});

describe("peer reflection as one block, and a whole entry", () => {
  test("role and date first, never a name field", () => {
    expect(peerReflectionForSwe(makeEntry({ peerReflection: COMPLETE_PEER }))).toBe(`Discussed with: Health visitor, on 12/03/2026.\n\n${COMPLETE_PEER.text}`);
    expect(peerReflectionForSwe(makeEntry({ peerReflection: null }))).toBe("");
    expect(peerReflectionForSwe(makeEntry({ peerReflection: { peerRole: "Other", discussedOn: null, text: "We talked." } }))).toBe("We talked.");
  });

  test("the whole entry with labels", () => {
    const entry = makeEntry({ title: "Interpreters", peerReflection: COMPLETE_PEER, learning: "" });
    const text = entryAsText(entry);
    expect(text.startsWith("Interpreters\n\nType of CPD:\nReading or research\n\nDate:\n10/03/2026\n\n")).toBe(true);
    expect(text).toContain(`What you learnt:\n(not filled in)`);
    expect(text).toContain(`Peer reflection\n\nPeer's professional role:\nHealth visitor`);
    expect(text.endsWith(`${PEER_QUESTION}:\n${COMPLETE_PEER.text}`)).toBe(true);
  });
});
