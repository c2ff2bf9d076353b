import { expect, test } from "vitest";
import type { DraftRecord } from "../sync/drafts";
import { asDraftId } from "../sync/ids";
import { makeEntry } from "../sync/testing";
import { newNote, type EntryDoc } from "../sync/schema";
import { flagKey } from "../anonymise/flag-key";
import { openFlags, supervisionBlocked } from "./rules";
import { planGrants } from "./supervision-grants";

function record(id: string, doc: EntryDoc | null): DraftRecord {
  return { id: asDraftId(id), addedAt: 1, doc };
}

const YEAR = { kind: "year", year: "2025-26" } as const;

test("a year's view takes in entries dated in it later, and lets go of those dated out of it or deleted", () => {
  const records = [
    record("shared", makeEntry({ activityDate: "2026-01-10" })),
    record("later", makeEntry({ activityDate: "2026-11-30" })),
    record("next-year", makeEntry({ activityDate: "2026-12-01" })),
    record("moved-out", makeEntry({ activityDate: "2025-11-30" })),
    record("undated", makeEntry({ activityDate: null })),
  ];
  expect(planGrants(YEAR, records, ["shared", "moved-out", "deleted"])).toEqual({ add: ["later"], drop: ["moved-out", "deleted"], held: [] });
});

test("an entry with open identifying details is held back, and withdrawn if it was shared", () => {
  const flagged = makeEntry({ activityDate: "2026-02-02", learning: "I learnt from Mrs Jones at 12 High Street." });
  const records = [record("flagged", flagged), record("clean", makeEntry({ activityDate: "2026-02-03" }))];
  expect(planGrants(YEAR, records, ["flagged"])).toEqual({ add: ["clean"], drop: ["flagged"], held: ["flagged"] });
  // Kept by the owner (they do not identify anyone): shared again.
  const kept = { ...flagged, dismissedFlags: openFlags(flagged.learning).map(flagKey) };
  expect(supervisionBlocked(kept)).toBeNull();
  expect(planGrants(YEAR, [record("flagged", kept)], []).add).toEqual(["flagged"]);
});

test("an entry not on this device yet is left as it is", () => {
  expect(planGrants(YEAR, [record("waiting", null)], ["waiting"])).toEqual({ add: [], drop: [], held: [] });
});

test("one entry's view shares that entry only, and only while it passes the check", () => {
  const entry = makeEntry();
  const records = [record("mine", entry), record("other", makeEntry())];
  expect(planGrants({ kind: "entry", entryId: "mine" }, records, [])).toEqual({ add: ["mine"], drop: [], held: [] });
  const withNote = { ...entry, notes: [newNote("n", "Phone", "Visit to J. Smith, NHS number 943 476 5919.", 1)] };
  expect(supervisionBlocked(withNote)).toMatch(/notes included/);
  expect(planGrants({ kind: "entry", entryId: "mine" }, [record("mine", withNote)], ["mine"])).toEqual({ add: [], drop: ["mine"], held: ["mine"] });
});
