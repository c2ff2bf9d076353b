// For unit tests (imported only by *.test.ts files): complete entries, and
// a DraftStore on an in-memory Repo with no network, so tests outside sync/
// need not import automerge-repo themselves.

import { Repo } from "@automerge/automerge-repo/slim";
import { DraftStore } from "./drafts";
import { newDraft, newNote, type EntryDoc, type RootDoc } from "./schema";

const repos: Repo[] = [];

/** A fresh, empty account's drafts on one device called `device`. */
export function memoryDrafts(device = "Phone"): DraftStore {
  const repo = new Repo({ network: [] });
  repos.push(repo);
  const root = repo.create<RootDoc>({ type: "fieldbook/root", schemaVersion: 1, entries: {}, settings: {} });
  return new DraftStore(repo, root, device);
}

/** Shuts down every Repo `memoryDrafts` made (call it in `afterEach`). */
export async function closeMemoryDrafts(): Promise<void> {
  await Promise.all(repos.splice(0).map((repo) => repo.shutdown()));
}

let counter = 0;

const TOPICS = [
  ["a research briefing on working with interpreters", "brief the interpreter first and check understanding with teach-back", "families understand the plan and can challenge it"],
  ["a podcast about trauma-informed practice with adolescents", "behaviour that looks like defiance can be a response to fear", "I plan visits so young people have more choice and control"],
  ["a course on the Mental Capacity Act and best interests decisions", "capacity is decision-specific and must be assessed at the time", "my assessments now record each decision separately and more clearly"],
  ["feedback from a parent about how a meeting felt", "jargon made the parent feel shut out of decisions about her own family", "I write plans in plain words and check they make sense before meetings"],
  ["a documentary about hoarding and self-neglect", "shame keeps people from asking for help, and trust takes time", "I now agree small steps with people instead of a deadline for everything"],
];

/** A complete entry, ready for SWE, with any fields overridden. */
export function makeEntry(fields: Partial<EntryDoc> = {}): EntryDoc {
  counter++;
  const topic = TOPICS[counter % TOPICS.length];
  const base = newDraft(newNote(`note-${counter}`, "Phone", "Quick note after the visit.", 1_780_000_000_000 + counter));
  return {
    ...base,
    status: "ready",
    title: `Entry ${counter}`,
    activityDate: "2026-03-10",
    activityType: "Reading or research",
    description: `I took part in ${topic[0]}, which is relevant to my work with families.`,
    learning: `I learnt that ${topic[1]}.`,
    impact: `As a result ${topic[2]}.`,
    ...fields,
  };
}

export const COMPLETE_PEER = { peerRole: "Health visitor", discussedOn: "2026-03-12", text: "The health visitor suggested using pictures as well as words." };
