// Writes what was typed on Capture before the drafts loaded (kept meanwhile
// in localStorage, see pending.ts) into the drafts. The app runs it as soon
// as the drafts open, whichever screen is showing, so words typed in the
// first moments reach Entries even if the user leaves Capture at once; Capture
// runs it too, for words typed into it before it had caught up. Running it
// again is harmless: what is already in the drafts is kept as it is.

import { asDraftId } from "../sync/ids";
import type { DraftStore } from "../sync/drafts";
import { reconcile, type CaptureMemory, type CaptureState, type CaptureTarget } from "./pending";

export type CaptureDrafts = Pick<DraftStore, "whenLoaded" | "get" | "setNoteText" | "addNote" | "create">;

export interface Settled {
  /** What the field shows now: the note's text as the drafts have it. */
  state: CaptureState;
  /** True if the typed words began a new draft. */
  created: boolean;
}

export async function settleCapture(drafts: CaptureDrafts, memory: CaptureMemory): Promise<Settled> {
  const before = memory.read();
  for (const state of [...(before.earlier ?? []), before]) {
    if (state.target) await drafts.whenLoaded(asDraftId(state.target.draftId));
  }
  // Read again: the user may have typed while the drafts loaded. From here
  // on nothing waits, so nothing typed can slip between reading and writing.
  const state = memory.read();
  for (const earlier of state.earlier ?? []) apply(drafts, earlier);
  const target = apply(drafts, state);
  const text = noteText(drafts, target) ?? "";
  const settled: CaptureState = { ...state, earlier: undefined, target, base: text, text };
  memory.write(settled);
  return { state: settled, created: target !== null && state.target === null };
}

function noteText(drafts: CaptureDrafts, target: CaptureTarget | null): string | null {
  if (!target) return null;
  const doc = drafts.get(asDraftId(target.draftId))?.doc;
  return doc?.notes.find((note) => note.id === target.noteId)?.text ?? null;
}

/** Writes one state's typed words into the drafts; returns the note they ended in. */
function apply(drafts: CaptureDrafts, state: CaptureState): CaptureTarget | null {
  const plan = reconcile(state, noteText(drafts, state.target));
  const target = state.target;
  if (plan.action === "update") {
    drafts.setNoteText(asDraftId(target!.draftId), target!.noteId, plan.text);
  } else if (plan.action === "add-note") {
    return { draftId: target!.draftId, noteId: drafts.addNote(asDraftId(target!.draftId), plan.text) };
  } else if (plan.action === "create") {
    const created = drafts.create(plan.text);
    return { draftId: created.id, noteId: created.noteId };
  } else if (plan.action === "clear") {
    return null;
  }
  return target;
}
