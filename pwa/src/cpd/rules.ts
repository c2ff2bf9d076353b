// Social Work England's CPD form as data, and the rules an entry and a
// registration year must meet (see ARCHITECTURE.md). SWE's own words are
// kept word for word; everything else is plain UK English. Pure: no DOM, no
// Automerge.

import type { EntryDoc } from "../sync/schema";
import { isInYear, isIsoDate, registrationYearOf, type RegistrationYear } from "./year";

// --- SWE's form ------------------------------------------------------------------

/** The fields of SWE's CPD form, in SWE's order. */
export const SWE_FIELDS = ["activityType", "activityDate", "description", "learning", "impact"] as const;
export type SweField = (typeof SWE_FIELDS)[number];

/** The peer reflection's parts, as paths into the entry. */
export const PEER_FIELDS = ["peerReflection.peerRole", "peerReflection.discussedOn", "peerReflection.text"] as const;
export type PeerField = (typeof PEER_FIELDS)[number];

/** SWE's question for the peer reflection, word for word. */
export const PEER_QUESTION = "Describe what you have learnt from discussing this CPD activity with a peer.";

/** SWE's words for its fields. */
export const SWE_LABELS: Record<SweField, string> & { peerReflection: string } = {
  activityType: "Type of CPD",
  activityDate: "Date",
  description: "Short description of the activity and why it is relevant to you",
  learning: "What you learnt",
  impact: "The positive impact it has had, or will have, on your practice and the people you work with",
  peerReflection: PEER_QUESTION,
};

/** Labels for the peer reflection's parts (SWE asks for the role, never a name). */
export const PEER_LABELS: Record<PeerField, string> = {
  "peerReflection.peerRole": "Peer's professional role",
  "peerReflection.discussedOn": "Date of the discussion",
  "peerReflection.text": PEER_QUESTION,
};

/** Fieldbook's own field: the title in the user's list. SWE does not ask for it. */
export const TITLE_LABEL = "Title (for your own list)";

/**
 * Types of CPD. CPD is far more than training (SWE and the seed articles say
 * so), so the list starts from everyday learning as much as from courses.
 * Stored in the entry as the text shown.
 */
export const CPD_TYPES: readonly string[] = [
  "Formal training or course",
  "E-learning or webinar",
  "Conference, event or learning day",
  "Reading or research",
  "Podcast, video or documentary",
  "Reflection on supervision",
  "Feedback from people with lived experience",
  "Feedback from colleagues or other professionals",
  "Reflection on practice",
  "Shadowing or observation",
  "Peer learning, group supervision or team discussion",
  "Mentoring, coaching or supervising a student",
  "Learning from a complaint, review or audit",
  "Other",
];

/** The peer's professional role: a list, plus "Other" with free text. Never a name. */
export const PEER_ROLES: readonly string[] = [
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
];

export interface Tag {
  /** What the entry stores in `standards` or `pcf`. */
  id: string;
  /** What the user sees. */
  name: string;
}

/** SWE's professional standards 1–6, with standard 4's eight parts after 4. */
export const SWE_STANDARDS: readonly Tag[] = [
  { id: "1", name: "1 Promote the rights, strengths and wellbeing of people, families and communities" },
  { id: "2", name: "2 Establish and maintain the trust and confidence of people" },
  { id: "3", name: "3 Be accountable for the quality of my practice and the decisions I make" },
  { id: "4", name: "4 Maintain my continuing professional development" },
  { id: "4.1", name: "4.1 Feedback" },
  { id: "4.2", name: "4.2 Supervision" },
  { id: "4.3", name: "4.3 Research, theories and frameworks" },
  { id: "4.4", name: "4.4 Subject knowledge and current issues" },
  { id: "4.5", name: "4.5 Open and creative learning culture" },
  { id: "4.6", name: "4.6 Reflection (evidence impact)" },
  { id: "4.7", name: "4.7 Recording" },
  { id: "4.8", name: "4.8 Values and ethics" },
  { id: "5", name: "5 Act safely, respectfully and with professional integrity" },
  { id: "6", name: "6 Promote ethical practice and report concerns" },
];

/** BASW's Professional Capabilities Framework: nine domains, optional tags. */
export const PCF_DOMAINS: readonly Tag[] = [
  { id: "professionalism", name: "Professionalism" },
  { id: "values-and-ethics", name: "Values and ethics" },
  { id: "diversity-and-equality", name: "Diversity and equality" },
  { id: "rights-justice-economic-wellbeing", name: "Rights, justice and economic wellbeing" },
  { id: "knowledge", name: "Knowledge" },
  { id: "critical-reflection-and-analysis", name: "Critical reflection and analysis" },
  { id: "skills-and-interventions", name: "Skills and interventions" },
  { id: "contexts-and-organisations", name: "Contexts and organisations" },
  { id: "professional-leadership", name: "Professional leadership" },
];

/** The name of a standard or PCF tag, or the id itself if it is not one we know. */
export function tagName(list: "standards" | "pcf", id: string): string {
  return (list === "standards" ? SWE_STANDARDS : PCF_DOMAINS).find((tag) => tag.id === id)?.name ?? id;
}

// --- Help to write ------------------------------------------------------------

/** What to write in each field: short, practical, in SWE's spirit. */
export const FIELD_GUIDANCE: Record<SweField | "peerReflection" | "title", string> = {
  title:
    "A few words so you can find this entry in your own list. SWE does not see it, but keep it free of names too.",
  activityType:
    "Choose what fits best. CPD is far more than training: reading, a podcast or documentary, supervision, feedback from people with lived experience or a difficult conversation can all count.",
  activityDate:
    "When the learning happened. The date decides which registration year (1 December – 30 November) the entry counts for, so it must fall within that year.",
  description:
    "Say briefly what you did and why it matters for your role and the people you work with. Keep it anonymous: no names or details that could identify anyone.",
  learning:
    "Say what you now know, understand or can do that you could not before. Be specific: one clear piece of learning is better than a list.",
  impact:
    "Say how this has changed, or will change, what you do, and what difference that makes for the people you work with. An example helps.",
  peerReflection:
    "Say what the conversation added to your learning and how it has changed, or will change, your practice. Give the peer's role, never their name.",
};

/** What counts as peer reflection, in a few lines (from SWE's guidance). */
export const PEER_GUIDANCE =
  "A peer reflection is a conversation with another professional about something you have learnt, and what it means for your practice. " +
  "The peer can be another social worker, a manager or supervisor, or another professional who knows your work, such as a teacher, police officer or health visitor. " +
  "It can be informal (a chat with a colleague after a course) or planned (supervision, a team meeting, group supervision). " +
  "Discussing a piece of learning with your supervisor counts; reflecting on your own on a supervision session does not, because peer reflection means discussing your learning with someone else. " +
  "Record the peer's role, never their name, and keep everything anonymous.";

export type PromptField = "description" | "learning" | "impact" | "peerReflection";
export type ReflectiveModelId = "what-so-what" | "gibbs";

export interface ReflectiveStage {
  /** The stage's name in the model ("So what?", "Feelings"). */
  name: string;
  /** The SWE field this stage helps to write. */
  field: PromptField;
  prompts: readonly string[];
}

export interface ReflectiveModel {
  id: ReflectiveModelId;
  name: string;
  /** One line on what the model is. */
  summary: string;
  stages: readonly ReflectiveStage[];
  /** The stages' prompts gathered by the field they help with (never new fields). */
  prompts: Record<PromptField, readonly string[]>;
}

function model(id: ReflectiveModelId, name: string, summary: string, stages: ReflectiveStage[]): ReflectiveModel {
  const prompts: Record<PromptField, string[]> = { description: [], learning: [], impact: [], peerReflection: [] };
  for (const stage of stages) prompts[stage.field].push(...stage.prompts);
  return { id, name, summary, stages, prompts };
}

/** Optional prompts to help write SWE's fields. "What? So what? Now what?" is the default. */
export const REFLECTIVE_MODELS: readonly ReflectiveModel[] = [
  model("what-so-what", "What? So what? Now what? (Borton, Driscoll)", "Three questions that follow SWE's fields: what happened, what it means, what you will do.", [
    {
      name: "What?",
      field: "description",
      prompts: ["What did you do, read, watch or hear?", "What was your part in it?", "Why did you choose it, and why is it relevant to your role?"],
    },
    {
      name: "So what?",
      field: "learning",
      prompts: [
        "So what did you learn that you did not know before?",
        "What surprised or challenged you?",
        "How does it fit with theory, research, the law or what people with lived experience say?",
      ],
    },
    {
      name: "Now what?",
      field: "impact",
      prompts: [
        "Now what will you do differently, or keep doing?",
        "What difference will it make for the people you work with?",
        "How will you know it has made a difference?",
      ],
    },
    {
      name: "With a peer",
      field: "peerReflection",
      prompts: ["What did the peer see that you had not?", "Did the conversation change your view or your plan?", "What will you do as a result?"],
    },
  ]),
  model("gibbs", "Gibbs' reflective cycle", "Six stages: description, feelings, evaluation, analysis, conclusion and action plan.", [
    { name: "Description", field: "description", prompts: ["What happened, and what was your part in it?", "Why is it relevant to you?"] },
    { name: "Feelings", field: "learning", prompts: ["What were you thinking and feeling at the time?"] },
    { name: "Evaluation", field: "learning", prompts: ["What went well, and what did not?"] },
    { name: "Analysis", field: "learning", prompts: ["Why did it go that way? What does research or theory say?"] },
    { name: "Conclusion", field: "learning", prompts: ["What have you learnt? What else could you have done?"] },
    {
      name: "Action plan",
      field: "impact",
      prompts: ["What will you do differently next time?", "What difference will that make for the people you work with?"],
    },
    { name: "With a peer", field: "peerReflection", prompts: ["What did discussing it with a peer add at each stage?"] },
  ]),
];

// --- Status rules -----------------------------------------------------------------

export interface Missing {
  field: SweField | PeerField;
  label: string;
}

function blank(text: string | null | undefined): boolean {
  return !text || text.trim() === "";
}

export type PeerReflectionState = "none" | "incomplete" | "complete";

/**
 * Whether an entry has a peer reflection: "none" if it has none or only an
 * empty one (the user pressed "Add" and wrote nothing), "complete" when role,
 * date and text are all given.
 */
export function peerReflectionState(entry: Pick<EntryDoc, "peerReflection">): PeerReflectionState {
  const peer = entry.peerReflection;
  if (!peer) return "none";
  // "Other" on its own is the list's placeholder for a role not yet typed.
  const role = peer.peerRole === "Other" ? "" : peer.peerRole;
  const parts = [!blank(role), isIsoDate(peer.discussedOn), !blank(peer.text)];
  if (parts.every(Boolean)) return "complete";
  return parts.some(Boolean) || peer.peerRole === "Other" || !blank(peer.discussedOn) ? "incomplete" : "none";
}

/**
 * What SWE's form still needs before the entry is ready, in SWE's order. A
 * peer reflection is optional, but one that is started must be finished.
 */
export function missingForReady(entry: EntryDoc): Missing[] {
  const missing: Missing[] = [];
  const add = (field: SweField | PeerField) =>
    missing.push({ field, label: field.startsWith("peerReflection.") ? PEER_LABELS[field as PeerField] : SWE_LABELS[field as SweField] });
  if (blank(entry.activityType)) add("activityType");
  if (!isIsoDate(entry.activityDate)) add("activityDate");
  if (blank(entry.description)) add("description");
  if (blank(entry.learning)) add("learning");
  if (blank(entry.impact)) add("impact");
  if (peerReflectionState(entry) === "incomplete") {
    const peer = entry.peerReflection!;
    if (blank(peer.peerRole) || peer.peerRole === "Other") add("peerReflection.peerRole");
    if (!isIsoDate(peer.discussedOn)) add("peerReflection.discussedOn");
    if (blank(peer.text)) add("peerReflection.text");
  }
  return missing;
}

export function canMarkReady(entry: EntryDoc): boolean {
  return missingForReady(entry).length === 0;
}

export interface EntryWarning {
  kind: "future-date" | "peer-before-activity" | "peer-in-future";
  message: string;
}

/**
 * Things worth a second look that do not stop an entry being ready: a CPD
 * date in the future, a peer discussion dated before the activity.
 * `today` is the UK date ("YYYY-MM-DD"), see ukDateOf.
 */
export function entryWarnings(entry: EntryDoc, today: string): EntryWarning[] {
  const warnings: EntryWarning[] = [];
  if (isIsoDate(entry.activityDate) && entry.activityDate > today) {
    warnings.push({ kind: "future-date", message: "The date is in the future. SWE asks for CPD you have done." });
  }
  const discussed = entry.peerReflection?.discussedOn;
  if (isIsoDate(discussed)) {
    if (discussed > today) warnings.push({ kind: "peer-in-future", message: "The date of the peer discussion is in the future." });
    if (isIsoDate(entry.activityDate) && discussed < entry.activityDate) {
      warnings.push({ kind: "peer-before-activity", message: "The peer discussion is dated before the CPD activity." });
    }
  }
  return warnings;
}

// --- The registration year --------------------------------------------------------

/** SWE's minimum per registration year. */
export const PIECES_NEEDED = 2;
export const PEER_REFLECTIONS_NEEDED = 1;

export interface RequirementProgress {
  /** Entries dated in the year with this status or better. */
  pieces: number;
  /** The same, with near-identical entries counted once (SWE wants different pieces). */
  distinctPieces: number;
  /** Of those, how many have a complete peer reflection. */
  withPeerReflection: number;
  /** At least 2 different pieces, at least 1 with a peer reflection. */
  met: boolean;
}

export interface YearProgress {
  year: RegistrationYear;
  /** Entries dated in the year, by status. */
  total: number;
  draft: number;
  ready: number;
  recorded: number;
  /** Entries dated in the year that are ready or recorded and have a complete peer reflection. */
  withPeerReflection: number;
  /** SWE's requirement counting entries ready or recorded: what the user has done. */
  readyOrRecorded: RequirementProgress;
  /** SWE's requirement counting only entries recorded on SWE: what SWE sees. */
  onSwe: RequirementProgress;
  /** Indexes (into the list given) of entries not dated in this year: undated or another year's. */
  outOfYear: number[];
  /** Indexes of entries with no date at all. */
  undated: number[];
  /** Drafts with no date yet: they count for no year until dated. */
  undatedDrafts: number;
}

function requirement(entries: EntryDoc[], duplicates: [number, number][]): RequirementProgress {
  const withPeerReflection = entries.filter((entry) => peerReflectionState(entry) === "complete").length;
  const distinctPieces = countGroups(entries.length, duplicates);
  return {
    pieces: entries.length,
    distinctPieces,
    withPeerReflection,
    met: distinctPieces >= PIECES_NEEDED && withPeerReflection >= PEER_REFLECTIONS_NEEDED,
  };
}

/** How many groups n items fall into when each pair joins two (union-find). */
function countGroups(n: number, pairs: [number, number][]): number {
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  let groups = n;
  for (const [a, b] of pairs) {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) {
      parent[ra] = rb;
      groups--;
    }
  }
  return groups;
}

/**
 * A registration year's progress towards SWE's minimum. Give it every entry
 * or only the year's: entries dated outside the year are not counted, only
 * listed in `outOfYear`.
 */
export function yearProgress(entries: readonly EntryDoc[], year: RegistrationYear): YearProgress {
  const inYear: EntryDoc[] = [];
  const outOfYear: number[] = [];
  const undated: number[] = [];
  entries.forEach((entry, index) => {
    if (isInYear(entry.activityDate, year)) inYear.push(entry);
    else {
      outOfYear.push(index);
      if (!isIsoDate(entry.activityDate)) undated.push(index);
    }
  });
  const byStatus = (status: EntryDoc["status"]) => inYear.filter((entry) => entry.status === status).length;
  const done = inYear.filter((entry) => entry.status !== "draft");
  const recorded = inYear.filter((entry) => entry.status === "recorded");
  return {
    year,
    total: inYear.length,
    draft: byStatus("draft"),
    ready: byStatus("ready"),
    recorded: recorded.length,
    withPeerReflection: done.filter((entry) => peerReflectionState(entry) === "complete").length,
    readyOrRecorded: requirement(done, duplicatePairs(done)),
    onSwe: requirement(recorded, duplicatePairs(recorded)),
    outOfYear,
    undated,
    undatedDrafts: undated.filter((index) => entries[index].status === "draft").length,
  };
}

/**
 * The year's entries by status in words. A draft with no date yet belongs to
 * no year; for the current year it is counted with the drafts, since that is
 * where the user is working on it.
 */
export function statusCounts(progress: YearProgress, isCurrentYear: boolean): string {
  const undated = isCurrentYear ? progress.undatedDrafts : 0;
  const drafts = progress.draft + undated;
  const draftWords = `${drafts} still ${drafts === 1 ? "a draft" : "drafts"}`;
  const undatedWords = undated === 0 ? "" : ` (${undated} with no date yet)`;
  return `${progress.recorded} recorded on SWE, ${progress.ready} ready to record, ${draftWords}${undatedWords}.`;
}

// --- Near-identical entries ---------------------------------------------------------

/** The similarity above which two entries count as near-identical. */
export const NEAR_DUPLICATE_THRESHOLD = 0.85;

/** The words SWE compares: description, learning and impact, folded to lower case without accents or punctuation. */
export function comparableWords(entry: Pick<EntryDoc, "description" | "learning" | "impact">): string[] {
  return [entry.description, entry.learning, entry.impact]
    .join(" ")
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

const SHINGLE = 3;

function shingles(words: string[]): Set<string> {
  if (words.length < SHINGLE) return new Set(words.length ? [words.join(" ")] : []);
  const set = new Set<string>();
  for (let i = 0; i + SHINGLE <= words.length; i++) set.add(words.slice(i, i + SHINGLE).join(" "));
  return set;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let shared = 0;
  for (const item of a) if (b.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}

/** How alike two entries' texts are: Jaccard similarity of word 3-shingles, 0 to 1 (0 when either is empty). */
export function similarity(a: EntryDoc, b: EntryDoc): number {
  const [sa, sb] = [shingles(comparableWords(a)), shingles(comparableWords(b))];
  if (sa.size === 0 || sb.size === 0) return 0;
  return jaccard(sa, sb);
}

function duplicatePairs(entries: EntryDoc[], threshold = NEAR_DUPLICATE_THRESHOLD): [number, number][] {
  const sets = entries.map((entry) => shingles(comparableWords(entry)));
  const years = entries.map((entry) => registrationYearOf(entry.activityDate)?.startYear ?? null);
  const pairs: [number, number][] = [];
  for (let i = 0; i < entries.length; i++) {
    if (sets[i].size === 0 || years[i] === null) continue;
    for (let j = i + 1; j < entries.length; j++) {
      if (sets[j].size === 0 || years[j] !== years[i]) continue;
      if (jaccard(sets[i], sets[j]) >= threshold) pairs.push([i, j]);
    }
  }
  return pairs;
}

/**
 * Pairs of entries dated in the same registration year whose texts are
 * near-identical (SWE checks that two records are not identical). Undated
 * entries and entries with no text are left out. Pairs keep the input order.
 */
export function nearDuplicates(
  entries: readonly { id: string; entry: EntryDoc }[],
  threshold = NEAR_DUPLICATE_THRESHOLD,
): [string, string][] {
  return duplicatePairs(
    entries.map((item) => item.entry),
    threshold,
  ).map(([a, b]) => [entries[a].id, entries[b].id]);
}
