// What the capture field holds, kept in localStorage (written synchronously
// on every keystroke) so that words typed before the drafts have loaded
// (the first few hundred milliseconds of a cold start, or the first open
// after signing in with no signal) are on the device at once, and a reload
// comes back to the same note; and when Capture starts a new note instead
// (after a gap, or when the app was closed), so one visit's note does not
// run on into the next.

import { USER_KEYS } from "../local/keys";
import { json, Stored } from "../local/stored";

export interface CaptureTarget {
  draftId: string;
  noteId: string;
}

export interface CaptureState {
  /** The note being written, once it exists. */
  target: CaptureTarget | null;
  /** The note's text as the drafts last had it. */
  base: string;
  /** The field's text; differs from `base` only when typed before loading. */
  text: string;
  /** Notes finished with "New note" before the drafts had loaded, oldest
   * first; each is reconciled like the current one when they load. */
  earlier?: CaptureState[];
  /** When the note was last changed (typed here, or edited elsewhere), ms. */
  changedAt?: number;
}

/** A note left this long is finished: the next words start a new one. */
export const CAPTURE_GAP_MS = 30 * 60_000;

/** Whether Capture should put `state`'s note away and start a new one: the
 * app was closed and opened again (not merely reloaded), or the note was
 * last changed `CAPTURE_GAP_MS` or more ago. */
export function isFinished(state: CaptureState, now: number, reopened: boolean): boolean {
  if (state.target === null && state.text === "") return false;
  if (reopened) return true;
  return state.changedAt === undefined || now - state.changedAt >= CAPTURE_GAP_MS;
}

const ukWhen = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", weekday: "long", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const ukDay = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", day: "numeric", month: "long" });
const ukDate = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London" });

/** "Tuesday 14:05 visit" (UK time) for a note begun at `time`, with the
 * date too once it is a week or more ago. */
export function visitLabel(time: number, now: number): string {
  const part = (type: string) => ukWhen.formatToParts(time).find((p) => p.type === type)?.value ?? "";
  const [weekday, clock] = [part("weekday"), `${part("hour")}:${part("minute")}`];
  const days = Math.round((Date.parse(ukDate.format(now)) - Date.parse(ukDate.format(time))) / 86_400_000);
  const day = days < 7 ? weekday : `${weekday} ${ukDay.format(time)}`;
  return `${day} ${clock} visit`;
}

export const EMPTY_CAPTURE: CaptureState = { target: null, base: "", text: "" };

/** This user's Capture field on this device. */
export type CaptureMemory = Stored<CaptureState>;

/** `storage` is localStorage unless given. */
export function captureMemory(userId: string, storage?: Storage): CaptureMemory {
  return new Stored(USER_KEYS.capture(userId), captureCodec, EMPTY_CAPTURE, storage);
}

const captureCodec = json((state) => {
  if (!isState(state)) return undefined;
  return Array.isArray(state.earlier) ? { ...state, earlier: state.earlier.filter(isState) } : state;
});

function isState(value: unknown): value is CaptureState {
  const state = value as CaptureState | null;
  return !!state && typeof state.text === "string" && typeof state.base === "string";
}

/** The state after "New note": an empty field. A note typed before the
 * drafts loaded is kept in `earlier` until they do. */
export function startNewNote(state: CaptureState, loaded: boolean): CaptureState {
  const pending = !loaded && state.text.trim() !== "" && state.text !== state.base;
  const earlier = [...(state.earlier ?? []), ...(pending ? [{ target: state.target, base: state.base, text: state.text }] : [])];
  return earlier.length ? { ...EMPTY_CAPTURE, earlier } : EMPTY_CAPTURE;
}

/** What to do with the field's text once the drafts have loaded. */
export type Reconciliation =
  /** Nothing was typed before loading; show the note as it is. */
  | { action: "keep" }
  /** Nothing to write into and nothing typed: start afresh. */
  | { action: "clear" }
  /** Typed into a note nobody else changed meanwhile: apply the edit. */
  | { action: "update"; text: string }
  /** The note changed elsewhere meanwhile: keep both, the typed words as a new note. */
  | { action: "add-note"; text: string }
  /** The note is gone (or there never was one) and words were typed: they start a new draft. */
  | { action: "create"; text: string };

/** `noteText` is the target note's text in the loaded drafts, or null if
 * there is no such note. Never drops typed words. */
export function reconcile(state: CaptureState, noteText: string | null): Reconciliation {
  const typed = state.text !== state.base;
  if (noteText === null || state.target === null) {
    // A note deleted elsewhere stays deleted unless words were added to it here.
    return typed && state.text.trim() ? { action: "create", text: state.text } : { action: "clear" };
  }
  if (!typed) return { action: "keep" };
  if (noteText === state.base) return { action: "update", text: state.text };
  const added = state.text.startsWith(state.base) ? state.text.slice(state.base.length).trim() : state.text;
  return added ? { action: "add-note", text: added } : { action: "keep" };
}
