// The TypeScript schema against the Rust one (shared/src/entry.rs): both are
// checked against the same committed example entry.
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { ENTRY_SCHEMA_VERSION, ENTRY_TYPE, newDraft, newNote, type Evidence } from "./schema";

const example = JSON.parse(readFileSync(new URL("../../../shared/tests/fixtures/entry.json", import.meta.url), "utf8"));

function kind(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

test("a new draft has exactly the fields of the shared example, with the same kinds of value", () => {
  const draft = newDraft(newNote("id", "Phone", "text", 1));
  expect(Object.keys(draft).sort()).toEqual(Object.keys(example).sort());
  for (const [key, value] of Object.entries(draft)) {
    const expected = kind(example[key]);
    // Optional fields are null in a new draft and set in the example.
    if (value !== null) expect(`${key}: ${kind(value)}`).toBe(`${key}: ${expected}`);
  }
  expect(Object.keys(draft.notes[0]).sort()).toEqual(Object.keys(example.notes[0]).sort());
  const evidence: Evidence = { id: "e", name: "n", mimeType: "application/pdf", size: 1, addedAt: 1 };
  expect(Object.keys(evidence).sort()).toEqual(Object.keys(example.evidence[0]).sort());
  expect(draft.type).toBe(example.type);
  expect(ENTRY_TYPE).toBe(example.type);
  expect(ENTRY_SCHEMA_VERSION).toBe(example.schemaVersion);
});
