import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { EntryDoc } from "../sync/schema";
import {
  canMarkReady,
  comparableWords,
  CPD_TYPES,
  entryWarnings,
  FIELD_GUIDANCE,
  missingForReady,
  nearDuplicates,
  PCF_DOMAINS,
  PEER_GUIDANCE,
  PEER_QUESTION,
  PEER_ROLES,
  peerReflectionState,
  REFLECTIVE_MODELS,
  similarity,
  SWE_FIELDS,
  SWE_LABELS,
  statusCounts,
  SWE_STANDARDS,
  tagName,
  yearProgress,
} from "./rules";
import { COMPLETE_PEER, makeEntry } from "../sync/testing";
import { registrationYear } from "./year";

const brief = readFileSync(new URL("../../../ARCHITECTURE.md", import.meta.url), "utf8").replace(/\s+/g, " ");
const year = registrationYear(2025);

describe("SWE's form as data", () => {
  test("the peer question is SWE's, word for word, as the brief quotes it", () => {
    expect(PEER_QUESTION).toBe("Describe what you have learnt from discussing this CPD activity with a peer.");
    expect(brief).toContain(`"${PEER_QUESTION}"`);
  });

  test("field labels use SWE's words from the brief", () => {
    const lower = brief.toLowerCase();
    for (const field of SWE_FIELDS) expect(lower, field).toContain(SWE_LABELS[field].toLowerCase());
    expect(SWE_LABELS.description).toBe("Short description of the activity and why it is relevant to you");
    expect(SWE_LABELS.impact).toBe("The positive impact it has had, or will have, on your practice and the people you work with");
  });

  test("standards 1–6 with 4.1–4.8 after 4, in order", () => {
    expect(SWE_STANDARDS.map((s) => s.id)).toEqual(["1", "2", "3", "4", "4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "5", "6"]);
    for (const standard of SWE_STANDARDS) expect(standard.name.startsWith(`${standard.id} `)).toBe(true);
    // Each name's words come from the brief.
    for (const standard of SWE_STANDARDS) {
      const words = standard.name.slice(standard.id.length + 1).replace(/\s*\(.*\)$/, "").toLowerCase();
      expect(brief.toLowerCase(), standard.id).toContain(words);
    }
  });

  test("the nine PCF domains, named as in the brief, with unique ids", () => {
    expect(PCF_DOMAINS).toHaveLength(9);
    expect(new Set(PCF_DOMAINS.map((d) => d.id)).size).toBe(9);
    for (const domain of PCF_DOMAINS) expect(brief.toLowerCase()).toContain(domain.name.toLowerCase());
  });

  test("tag names", () => {
    expect(tagName("standards", "4.2")).toBe("4.2 Supervision");
    expect(tagName("pcf", "knowledge")).toBe("Knowledge");
    expect(tagName("pcf", "unknown-tag")).toBe("unknown-tag");
  });

  test("CPD types go well beyond training, end with Other, and have no duplicates", () => {
    expect(CPD_TYPES.length).toBeGreaterThanOrEqual(8);
    expect(new Set(CPD_TYPES).size).toBe(CPD_TYPES.length);
    expect(CPD_TYPES.at(-1)).toBe("Other");
    const all = CPD_TYPES.join(" | ").toLowerCase();
    for (const word of ["course", "reading", "podcast", "supervision", "lived experience", "reflection on practice", "shadowing", "conference"]) {
      expect(all).toContain(word);
    }
    // The shared example entry's type is one of them.
    const example = JSON.parse(readFileSync(new URL("../../../shared/tests/fixtures/entry.json", import.meta.url), "utf8"));
    expect(CPD_TYPES).toContain(example.activityType);
    expect(PEER_ROLES).toContain(example.peerReflection.peerRole);
  });

  test("peer roles: social work, health, education, police and lived experience, never names, ending with Other", () => {
    expect(PEER_ROLES).toEqual([
      "Social worker",
      "Manager or supervisor",
      "Practice educator",
      "Occupational therapist",
      "Psychologist",
      "Nurse",
      "Health visitor",
      "GP",
      "Teacher",
      "Police officer",
      "Person with lived experience",
      "Other",
    ]);
  });

  test("guidance for every field, and what counts as peer reflection", () => {
    for (const field of [...SWE_FIELDS, "peerReflection", "title"] as const) expect(FIELD_GUIDANCE[field].length).toBeGreaterThan(40);
    expect(PEER_GUIDANCE).toMatch(/supervisor counts/);
    expect(PEER_GUIDANCE).toMatch(/on your own on a supervision session does not/);
    expect(PEER_GUIDANCE).toMatch(/never their name/);
  });

  test("reflective models: What? So what? Now what? first, then Gibbs' six stages, mapped onto SWE's fields only", () => {
    expect(REFLECTIVE_MODELS.map((m) => m.id)).toEqual(["what-so-what", "gibbs"]);
    const [borton, gibbs] = REFLECTIVE_MODELS;
    expect(borton.stages.slice(0, 3).map((s) => [s.name, s.field])).toEqual([
      ["What?", "description"],
      ["So what?", "learning"],
      ["Now what?", "impact"],
    ]);
    expect(gibbs.stages.slice(0, 6).map((s) => s.name)).toEqual(["Description", "Feelings", "Evaluation", "Analysis", "Conclusion", "Action plan"]);
    for (const m of REFLECTIVE_MODELS) {
      expect(Object.keys(m.prompts).sort()).toEqual(["description", "impact", "learning", "peerReflection"]);
      for (const field of ["description", "learning", "impact", "peerReflection"] as const) expect(m.prompts[field].length, `${m.id} ${field}`).toBeGreaterThan(0);
      expect(m.prompts.learning).toEqual(m.stages.filter((s) => s.field === "learning").flatMap((s) => s.prompts));
    }
  });

  test("user-facing text is UK English", () => {
    const text = JSON.stringify([FIELD_GUIDANCE, PEER_GUIDANCE, REFLECTIVE_MODELS, CPD_TYPES, SWE_STANDARDS, PCF_DOMAINS]);
    expect(text).not.toMatch(/\b(organization|behavior|program\b|center|color|analyze|learned|practiced)/i);
  });
});

describe("status rules", () => {
  test("a complete entry can be marked ready", () => {
    const entry = makeEntry();
    expect(missingForReady(entry)).toEqual([]);
    expect(canMarkReady(entry)).toBe(true);
  });

  test("a new draft lists every SWE field, in SWE's order, with SWE's labels", () => {
    const entry = makeEntry({ activityType: null, activityDate: null, description: "", learning: "", impact: "" });
    expect(missingForReady(entry)).toEqual([
      { field: "activityType", label: "Type of CPD" },
      { field: "activityDate", label: "Date" },
      { field: "description", label: SWE_LABELS.description },
      { field: "learning", label: "What you learnt" },
      { field: "impact", label: SWE_LABELS.impact },
    ]);
    expect(canMarkReady(entry)).toBe(false);
  });

  test("white space is not text, and an impossible date is not a date", () => {
    const entry = makeEntry({ learning: "  \n\t ", activityDate: "2026-02-30", activityType: " " });
    expect(missingForReady(entry).map((m) => m.field)).toEqual(["activityType", "activityDate", "learning"]);
  });

  test("a peer reflection is optional", () => {
    expect(canMarkReady(makeEntry({ peerReflection: null }))).toBe(true);
    expect(peerReflectionState(makeEntry({ peerReflection: null }))).toBe("none");
  });

  test("an empty peer reflection (added, nothing written) counts as none and does not block", () => {
    const entry = makeEntry({ peerReflection: { peerRole: "", discussedOn: null, text: "  " } });
    expect(peerReflectionState(entry)).toBe("none");
    expect(canMarkReady(entry)).toBe(true);
  });

  test("a started peer reflection must be finished: role, date and text", () => {
    const textOnly = makeEntry({ peerReflection: { peerRole: "", discussedOn: null, text: "We talked it over." } });
    expect(peerReflectionState(textOnly)).toBe("incomplete");
    expect(missingForReady(textOnly)).toEqual([
      { field: "peerReflection.peerRole", label: "Peer's professional role" },
      { field: "peerReflection.discussedOn", label: "Date of the discussion" },
    ]);
    const roleOnly = makeEntry({ peerReflection: { peerRole: "Nurse", discussedOn: null, text: "" } });
    expect(missingForReady(roleOnly).map((m) => m.field)).toEqual(["peerReflection.discussedOn", "peerReflection.text"]);
    expect(missingForReady(roleOnly)[1].label).toBe(PEER_QUESTION);
    const dateOnly = makeEntry({ peerReflection: { peerRole: "", discussedOn: "2026-03-12", text: "" } });
    expect(peerReflectionState(dateOnly)).toBe("incomplete");
  });

  test("'Other' with no role typed is not a role", () => {
    const entry = makeEntry({ peerReflection: { ...COMPLETE_PEER, peerRole: "Other" } });
    expect(peerReflectionState(entry)).toBe("incomplete");
    expect(missingForReady(entry).map((m) => m.field)).toEqual(["peerReflection.peerRole"]);
    const typed = makeEntry({ peerReflection: { ...COMPLETE_PEER, peerRole: "Youth worker" } });
    expect(peerReflectionState(typed)).toBe("complete");
    expect(peerReflectionState(makeEntry({ peerReflection: { peerRole: "Other", discussedOn: null, text: "" } }))).toBe("incomplete");
  });

  test("a complete peer reflection", () => {
    const entry = makeEntry({ peerReflection: COMPLETE_PEER });
    expect(peerReflectionState(entry)).toBe("complete");
    expect(canMarkReady(entry)).toBe(true);
  });

  test("warnings for dates that look wrong", () => {
    expect(entryWarnings(makeEntry({ activityDate: "2026-03-10" }), "2026-03-10")).toEqual([]);
    expect(entryWarnings(makeEntry({ activityDate: "2026-03-11" }), "2026-03-10").map((w) => w.kind)).toEqual(["future-date"]);
    const early = makeEntry({ activityDate: "2026-03-10", peerReflection: { ...COMPLETE_PEER, discussedOn: "2026-03-01" } });
    expect(entryWarnings(early, "2026-04-01").map((w) => w.kind)).toEqual(["peer-before-activity"]);
    const ahead = makeEntry({ activityDate: "2026-03-10", peerReflection: { ...COMPLETE_PEER, discussedOn: "2026-05-01" } });
    expect(entryWarnings(ahead, "2026-04-01").map((w) => w.kind)).toEqual(["peer-in-future"]);
  });
});

describe("year progress", () => {
  test("counts entries dated in the year by status, and the peer reflections among those ready or recorded", () => {
    const entries = [
      makeEntry({ status: "draft", peerReflection: COMPLETE_PEER }),
      makeEntry({ status: "ready" }),
      makeEntry({ status: "recorded", peerReflection: COMPLETE_PEER }),
      makeEntry({ status: "recorded", activityDate: "2025-12-01" }),
    ];
    const progress = yearProgress(entries, year);
    expect(progress).toMatchObject({ total: 4, draft: 1, ready: 1, recorded: 2, withPeerReflection: 1, outOfYear: [], undated: [] });
    expect(progress.readyOrRecorded).toEqual({ pieces: 3, distinctPieces: 3, withPeerReflection: 1, met: true });
    expect(progress.onSwe).toEqual({ pieces: 2, distinctPieces: 2, withPeerReflection: 1, met: true });
  });

  test("undated drafts are counted as drafts on the current year's screen, and on no other", () => {
    const entries = [makeEntry({ status: "draft", activityDate: null }), makeEntry({ status: "draft" }), makeEntry({ activityDate: null }), makeEntry({ status: "recorded" })];
    const progress = yearProgress(entries, year);
    expect(progress).toMatchObject({ draft: 1, ready: 0, recorded: 1, undated: [0, 2], undatedDrafts: 1 });
    expect(statusCounts(progress, true)).toBe("1 recorded on SWE, 0 ready to record, 2 still drafts (1 with no date yet).");
    expect(statusCounts(progress, false)).toBe("1 recorded on SWE, 0 ready to record, 1 still a draft.");
    const onlyUndated = yearProgress([makeEntry({ status: "draft", activityDate: null })], year);
    expect(statusCounts(onlyUndated, true)).toBe("0 recorded on SWE, 0 ready to record, 1 still a draft (1 with no date yet).");
    expect(statusCounts(yearProgress([], year), true)).toBe("0 recorded on SWE, 0 ready to record, 0 still drafts.");
  });

  test("two pieces without a peer reflection do not meet the requirement; one piece with one does not either", () => {
    expect(yearProgress([makeEntry(), makeEntry()], year).readyOrRecorded.met).toBe(false);
    expect(yearProgress([makeEntry({ peerReflection: COMPLETE_PEER })], year).readyOrRecorded.met).toBe(false);
    expect(yearProgress([makeEntry({ peerReflection: COMPLETE_PEER }), makeEntry()], year).readyOrRecorded.met).toBe(true);
    // Drafts never count, even with a peer reflection.
    expect(yearProgress([makeEntry({ status: "draft", peerReflection: COMPLETE_PEER }), makeEntry()], year).readyOrRecorded.met).toBe(false);
    // An unfinished peer reflection does not count.
    const half = { ...COMPLETE_PEER, discussedOn: null };
    expect(yearProgress([makeEntry({ peerReflection: half }), makeEntry()], year).readyOrRecorded.met).toBe(false);
  });

  test("only recorded entries count for what SWE sees", () => {
    const progress = yearProgress([makeEntry({ peerReflection: COMPLETE_PEER }), makeEntry({ status: "recorded" })], year);
    expect(progress.readyOrRecorded.met).toBe(true);
    expect(progress.onSwe).toEqual({ pieces: 1, distinctPieces: 1, withPeerReflection: 0, met: false });
  });

  test("two near-identical entries are one piece", () => {
    const a = makeEntry({ peerReflection: COMPLETE_PEER });
    const b = { ...a, title: "Copy", peerReflection: null };
    const progress = yearProgress([a, b], year);
    expect(progress.readyOrRecorded).toEqual({ pieces: 2, distinctPieces: 1, withPeerReflection: 1, met: false });
  });

  test("entries dated outside the year, or undated, are flagged and not counted", () => {
    const entries = [
      makeEntry({ activityDate: "2025-11-30" }),
      makeEntry({ activityDate: "2026-11-30", peerReflection: COMPLETE_PEER }),
      makeEntry({ activityDate: null, status: "draft" }),
      makeEntry({ activityDate: "2026-12-01" }),
      makeEntry({ activityDate: "2025-12-01" }),
    ];
    const progress = yearProgress(entries, year);
    expect(progress.outOfYear).toEqual([0, 2, 3]);
    expect(progress.undated).toEqual([2]);
    expect(progress.total).toBe(2);
    expect(progress.readyOrRecorded.met).toBe(true);
  });

  test("an empty year", () => {
    expect(yearProgress([], year)).toMatchObject({ total: 0, draft: 0, ready: 0, recorded: 0, withPeerReflection: 0 });
    expect(yearProgress([], year).readyOrRecorded).toEqual({ pieces: 0, distinctPieces: 0, withPeerReflection: 0, met: false });
  });
});

describe("near-identical entries", () => {
  const base = makeEntry({
    description: "I attended a half-day course on the Mental Capacity Act, which matters because I assess capacity on most visits.",
    learning: "Capacity is decision-specific and time-specific; an unwise decision is not proof that someone lacks capacity.",
    impact: "I now record each decision separately, and explain the test to families so they can take part.",
  });

  test("identical texts are similarity 1; case, punctuation, accents and spacing do not matter", () => {
    const copy: EntryDoc = {
      ...base,
      description: base.description.toUpperCase().replace(/,/g, "") + "  ",
      learning: base.learning.replace(/;/g, " —").replace("decision", "décision"),
    };
    expect(similarity(base, base)).toBe(1);
    expect(similarity(base, copy)).toBe(1);
  });

  test("a copy with a word or two changed is near-identical; a different entry is not", () => {
    const tweaked = { ...base, impact: base.impact.replace("families", "carers") };
    expect(similarity(base, tweaked)).toBeGreaterThanOrEqual(0.85);
    const other = makeEntry();
    expect(similarity(base, other)).toBeLessThan(0.3);
  });

  test("same course, different learning: not a duplicate", () => {
    const second = {
      ...base,
      learning: "Best interests meetings must weigh the person's wishes and feelings, beliefs and values, and consult those close to them.",
      impact: "I plan best interests meetings with the person first, and write down how their views shaped the decision.",
    };
    const s = similarity(base, second);
    expect(s).toBeGreaterThan(0.1);
    expect(s).toBeLessThan(0.85);
  });

  test("pairs are found within a registration year only, by id, in input order", () => {
    const items = [
      { id: "a", entry: base },
      { id: "b", entry: makeEntry() },
      { id: "c", entry: { ...base, activityDate: "2026-11-30" } },
      { id: "d", entry: { ...base, activityDate: "2026-12-01" } }, // next year
      { id: "e", entry: { ...base, activityDate: null } }, // no year
      { id: "f", entry: { ...base, status: "draft" as const } },
    ];
    expect(nearDuplicates(items)).toEqual([
      ["a", "c"],
      ["a", "f"],
      ["c", "f"],
    ]);
  });

  test("entries with no text are never duplicates of each other", () => {
    const empty = makeEntry({ description: "", learning: "", impact: "" });
    expect(similarity(empty, empty)).toBe(0);
    expect(nearDuplicates([{ id: "x", entry: empty }, { id: "y", entry: { ...empty } }])).toEqual([]);
  });

  test("very short texts are compared word for word", () => {
    const a = makeEntry({ description: "Read", learning: "", impact: "" });
    expect(similarity(a, { ...a })).toBe(1);
    expect(similarity(a, { ...a, description: "Watched" })).toBe(0);
  });

  test("the threshold can be changed", () => {
    const second = { ...base, impact: "Something else entirely that I will now do with everyone I work with." };
    const s = similarity(base, second);
    expect(nearDuplicates([{ id: "a", entry: base }, { id: "b", entry: second }], s)).toEqual([["a", "b"]]);
    expect(nearDuplicates([{ id: "a", entry: base }, { id: "b", entry: second }], s + 0.01)).toEqual([]);
  });

  test("comparable words", () => {
    expect(comparableWords({ description: "Café, visit!", learning: "It's", impact: "Nº 5" })).toEqual(["cafe", "visit", "it", "s", "no", "5"]);
  });

  test("a hundred entries are compared quickly", () => {
    const many = Array.from({ length: 100 }, (_, i) => ({
      id: String(i),
      entry: makeEntry({ description: `Entry ${i} about topic ${i * 7} and practice area ${i * 13} with a long description of what happened ${"word ".repeat(50)}` }),
    }));
    const start = performance.now();
    nearDuplicates(many);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
