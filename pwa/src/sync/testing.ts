// For unit tests (imported only by *.test.ts files): complete entries, and
// a DraftStore on an in-memory Repo with no network, so tests outside sync/
// need not import automerge-repo themselves.

import { Repo, type DocHandle, type DocumentId } from "@automerge/automerge-repo/slim";
import { ImmutableString } from "@automerge/automerge/slim";
import { IndexedDBStorageAdapter } from "@automerge/automerge-repo-storage-indexeddb";
import { BroadcastChannelNetworkAdapter } from "@automerge/automerge-repo-network-broadcastchannel";
import { DraftStore } from "./drafts";
import { newDraft, newNote, type EntryDoc, type MemberRole, type RootDoc } from "./schema";

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

/** A device of one user, with its own storage, joined to the others on
 * `channel` by a BroadcastChannel (two users' devices meet there as they
 * would through the server; its access control is tested on the server). */
export function sharingDevice(name: string, channel: string): Repo {
  const repo = new Repo({ storage: new IndexedDBStorageAdapter(name), network: [new BroadcastChannelNetworkAdapter({ channelName: channel })] });
  repos.push(repo);
  return repo;
}

/** Shuts down every Repo `sharingDevice` made (call it in `afterEach`). */
export async function closeSharingDevices(): Promise<void> {
  // A document still being looked for cannot be flushed; nothing of it is lost.
  await Promise.all(repos.splice(0).map((repo) => repo.shutdown().catch(() => undefined)));
}

export function newRoot(repo: Repo): DocHandle<RootDoc> {
  return repo.create<RootDoc>({ type: "fieldbook/root", schemaVersion: 1, entries: {}, settings: {} });
}

/** What the server does when an invitation is accepted: its values are
 * Automerge scalar strings, as the server writes them (not text). */
export function shareWith(root: DocHandle<RootDoc>, id: DocumentId, role: MemberRole = "writer"): void {
  const scalar = (text: string) => new ImmutableString(text) as unknown as string;
  root.change((doc) => {
    doc.shared ??= {};
    doc.shared[id] = { role: scalar(role) as MemberRole, ownerDisplayName: scalar("Sam"), since: scalar("2026-12-03T15:00:00Z") };
  });
}

/** Waits for another device's change to arrive. */
export async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
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
