import { describe, expect, test } from "vitest";
import { formatWhen, matchesQuery, summarize, truncate } from "./summary";
import { newDraft, newNote, type EntryDoc } from "../sync/schema";

function draft(...texts: string[]): EntryDoc {
  const doc = newDraft(newNote("n0", "Phone", texts[0] ?? "", 1000));
  texts.slice(1).forEach((text, i) => doc.notes.push(newNote(`n${i + 1}`, "Phone", text, 2000)));
  return doc;
}

describe("summarize", () => {
  test("an untitled draft is named by its first note's first line", () => {
    const summary = summarize(draft("Court report practice\nlots more detail", "second note"));
    expect(summary.title).toBe("Court report practice");
    expect(summary.snippet).toBe("Court report practice lots more detail · second note");
    expect(summary.noteCount).toBe(2);
    expect(summary.status).toBe("draft");
  });

  test("a title wins; an empty draft still has a name", () => {
    const titled = draft("note");
    titled.title = "  Supervision on risk  ";
    expect(summarize(titled).title).toBe("Supervision on risk");
    expect(summarize(draft("")).title).toBe("Untitled draft");
  });
});

test("truncate cuts at a word boundary and marks the cut", () => {
  expect(truncate("short", 10)).toBe("short");
  expect(truncate("the quick brown fox jumps", 12)).toBe("the quick…");
});

describe("matchesQuery", () => {
  const doc = draft("Visited Zoë about the café placement", "Reflected on consent");
  test("finds every word anywhere, ignoring case and accents", () => {
    expect(matchesQuery(doc, "zoe CAFE")).toBe(true);
    expect(matchesQuery(doc, "consent visited")).toBe(true);
    expect(matchesQuery(doc, "")).toBe(true);
  });
  test("a word found nowhere is no match", () => {
    expect(matchesQuery(doc, "consent court")).toBe(false);
  });
  test("searches the title too", () => {
    const titled = draft("x");
    titled.title = "Advocacy";
    expect(matchesQuery(titled, "advoc")).toBe(true);
  });
});

describe("formatWhen", () => {
  const now = new Date(2026, 10, 22, 15, 0).getTime();
  test("recent times are relative, older ones are dates", () => {
    expect(formatWhen(now - 10_000, now)).toBe("just now");
    expect(formatWhen(now - 5 * 60_000, now)).toBe("5 min ago");
    expect(formatWhen(new Date(2026, 10, 22, 9, 5).getTime(), now)).toBe("09:05");
    expect(formatWhen(new Date(2026, 10, 21, 20, 0).getTime(), now)).toBe("yesterday");
    expect(formatWhen(new Date(2026, 10, 3).getTime(), now)).toBe("3 Nov");
    expect(formatWhen(new Date(2025, 10, 3).getTime(), now)).toBe("3 Nov 2025");
  });
});
