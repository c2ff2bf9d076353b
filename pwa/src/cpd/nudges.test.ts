import { describe, expect, test } from "vitest";
import { nudges, QUIET_DAYS, REQUIREMENT_NUDGE_DAYS } from "./nudges";
import { COMPLETE_PEER, makeEntry } from "../sync/testing";
import { ukInstant } from "./year";

const DAY_MS = 24 * 60 * 60 * 1000;
const ids = (list: { id: string }[]) => list.map((nudge) => nudge.id);

describe("nudges", () => {
  test("the renewal window open (1 September) nudges until the user has submitted", () => {
    const now = ukInstant("2026-09-01", 9);
    const entries = [makeEntry({ activityDate: "2026-03-10", status: "recorded", peerReflection: COMPLETE_PEER, updatedAt: now.getTime() }), makeEntry({ activityDate: "2026-04-10", status: "recorded", updatedAt: now.getTime() })];
    expect(ids(nudges(entries, now, false))).toEqual(["renew"]);
    expect(nudges(entries, now, false)[0].message).toContain("90 days left");
    expect(nudges(entries, now, true)).toEqual([]);
    // The day before the window opens: nothing to renew yet.
    expect(nudges(entries, ukInstant("2026-08-31", 23, 59), false)).toEqual([]);
  });

  test("an unmet requirement nudges only when the deadline is near, and says what is missing", () => {
    const entries = [makeEntry({ activityDate: "2026-03-10", status: "ready", peerReflection: null })];
    const early = ukInstant("2026-06-01", 12);
    expect(ids(nudges(entries.map((e) => ({ ...e, updatedAt: early.getTime() })), early, true))).toEqual(["record"]);

    const late = new Date(ukInstant("2026-11-30", 12).getTime() - REQUIREMENT_NUDGE_DAYS * DAY_MS);
    const found = nudges(entries.map((e) => ({ ...e, updatedAt: late.getTime() })), late, true);
    expect(ids(found)).toEqual(["requirement", "record"]);
    expect(found[0].message).toBe("90 days left in 2025–26: you still need 1 more piece of CPD and a peer reflection.");
  });

  test("entries dated in another year do not count towards this one", () => {
    const now = ukInstant("2026-11-20", 12);
    const lastYear = [makeEntry({ activityDate: "2025-11-30", status: "recorded", peerReflection: COMPLETE_PEER, updatedAt: now.getTime() }), makeEntry({ activityDate: "2025-10-01", status: "recorded", updatedAt: now.getTime() })];
    const found = nudges(lastYear, now, true);
    expect(found.find((nudge) => nudge.id === "requirement")?.message).toContain("2 more pieces of CPD and a peer reflection");
  });

  test("a month with nothing changed earns the monthly nudge", () => {
    const now = ukInstant("2026-02-01", 12);
    const entry = makeEntry({ activityDate: "2026-01-10", status: "recorded", peerReflection: COMPLETE_PEER });
    expect(ids(nudges([{ ...entry, updatedAt: now.getTime() - (QUIET_DAYS - 1) * DAY_MS }], now, true))).toEqual([]);
    expect(ids(nudges([{ ...entry, updatedAt: now.getTime() - QUIET_DAYS * DAY_MS }], now, true))).toEqual(["monthly"]);
    expect(ids(nudges([], now, true))).toEqual(["monthly"]);
  });
});
