// Pure helpers for showing and finding drafts: no Automerge, no DOM.

import type { EntryDoc, EntryStatus } from "../sync/schema";

export interface DraftSummary {
  title: string;
  snippet: string;
  noteCount: number;
  status: EntryStatus;
  updatedAt: number;
}

const TITLE_CHARS = 60;
const SNIPPET_CHARS = 140;

// An Automerge document is a new object after every change, so a summary
// kept per document object is never stale; the list redraws hundreds of
// entries at once and most have not changed.
const summaries = new WeakMap<EntryDoc, DraftSummary>();

export function summarize(doc: EntryDoc): DraftSummary {
  let summary = summaries.get(doc);
  if (!summary) {
    summary = summaryOf(doc);
    summaries.set(doc, summary);
  }
  return summary;
}

function summaryOf(doc: EntryDoc): DraftSummary {
  const texts = doc.notes.map((note) => note.text.trim()).filter((text) => text.length > 0);
  const firstLine = texts[0]?.split("\n")[0] ?? "";
  const title = doc.title.trim() || truncate(firstLine, TITLE_CHARS) || "Untitled draft";
  return {
    title,
    snippet: truncate(texts.join(" · ").replace(/\s+/g, " "), SNIPPET_CHARS),
    noteCount: doc.notes.length,
    status: doc.status,
    updatedAt: doc.updatedAt,
  };
}

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const lastSpace = cut.lastIndexOf(" ");
  return `${lastSpace > max / 2 ? cut.slice(0, lastSpace) : cut}…`;
}

/** Case- and accent-insensitive form of text for searching. */
export function foldForSearch(text: string): string {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

/** Whether every word of the query appears in the title or a note. */
export function matchesQuery(doc: EntryDoc, query: string): boolean {
  const words = foldForSearch(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = foldForSearch([doc.title, ...doc.notes.map((note) => note.text)].join("\n"));
  return words.every((word) => haystack.includes(word));
}

export const STATUS_LABELS: Record<EntryStatus, string> = {
  draft: "Draft",
  ready: "Ready for SWE",
  recorded: "Recorded on SWE",
};

// Made once: toLocaleDateString with options builds a new formatter on each
// call, which was most of the time drawing a list of 500 entries.
const TIME = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });
const DAY_MONTH = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });
const DAY_MONTH_YEAR = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });

/** "just now", "5 min ago", "14:05", "yesterday", "3 Nov", "3 Nov 2025". */
export function formatWhen(time: number, now: number): string {
  const seconds = Math.round((now - time) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  const then = new Date(time);
  const today = new Date(now);
  const startOfToday = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime();
  if (time >= startOfToday) {
    return TIME.format(then);
  }
  if (time >= startOfToday - 86_400_000) return "yesterday";
  const sameYear = then.getFullYear() === today.getFullYear();
  return (sameYear ? DAY_MONTH : DAY_MONTH_YEAR).format(then);
}
