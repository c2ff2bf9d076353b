import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { asDraftId, type DraftId } from "../sync/ids";
import type { SyncClient } from "../sync/client";
import { TAB_KEYS } from "../local/keys";
import { Stored, TEXT } from "../local/stored";
import { captureMemory, isFinished, startNewNote, visitLabel, type CaptureState } from "./pending";
import { settleCapture } from "./settle";
import { summarize, formatWhen } from "../cpd/summary";
import { Boundary } from "../ui/Boundary";
import { CaptureFlags } from "./CaptureFlags";
import { TextField } from "../ui/TextField";
import { useSubscription, useNow } from "../ui/hooks";
import { VoiceRecorder } from "../voice";

const RECENT_DRAFTS = 4;
const SAVE_SETTLE_MS = 150;

type SaveState = "empty" | "saving" | "saved";

export const deviceWord = matchMedia("(pointer: coarse)").matches ? "phone" : "device";

/** True the first time Capture opens in this tab or installed app: session
 * storage lasts through reloads but not through closing the app. */
function openedAfresh(userId: string): boolean {
  const opened = new Stored(TAB_KEYS.captureOpened(userId), TEXT, "", "tab");
  const first = opened.read() === "";
  opened.write("1");
  return first;
}

/** The phone's home screen: open the app and start typing. */
export function CaptureScreen({ client, userId }: { client: SyncClient | null; userId: string }) {
  const drafts = client?.drafts ?? null;
  const memory = useMemo(() => captureMemory(userId), [userId]);
  const [capture, setCapture] = useState<CaptureState>(() => {
    // After a gap, or once the app was closed, the last visit's note is
    // finished: the field starts empty (anything typed before it was put
    // away is still written into the drafts when they load).
    const stored = memory.read();
    if (!isFinished(stored, Date.now(), openedAfresh(userId))) return stored;
    const fresh = startNewNote(stored, false);
    memory.write(fresh);
    return fresh;
  });
  // The note begun in the field since Capture opened, if any: any other note
  // in the field is one being added to, and says so.
  const [startedHere, setStartedHere] = useState<string | null>(null);
  // Words typed into an empty field before the drafts loaded begin a note here too.
  const typedBeforeLoad = useRef(false);
  // True once the field's text has been reconciled with the loaded drafts;
  // until then the field shows (and extends) what localStorage holds.
  const [reconciled, setReconciled] = useState(false);
  const [saveState, setSaveState] = useState<SaveState>(capture.text ? "saved" : "empty");
  const [announcement, setAnnouncement] = useState("");
  const saveTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const now = useNow();
  useSubscription(drafts ? (listener) => drafts.subscribe(listener) : null, () => null);

  const update = (next: CaptureState) => {
    memory.write(next);
    setCapture(next);
  };

  useEffect(() => {
    if (!drafts) return;
    let cancelled = false;
    // The app has usually settled the field already (see settle.ts); this
    // catches words typed here since.
    void settleCapture(drafts, memory).then(({ state, created }) => {
      if (cancelled) return;
      if (created && typedBeforeLoad.current) setStartedHere(state.target!.noteId);
      setCapture(state);
      setReconciled(true);
    });
    return () => {
      cancelled = true;
    };
  }, [drafts]);

  const target = capture.target;
  const targetDoc = reconciled && target && drafts ? drafts.get(asDraftId(target.draftId))?.doc : null;
  const targetNote = targetDoc?.notes.find((note) => note.id === target?.noteId);
  const text = targetNote ? targetNote.text : capture.text;

  // Keep localStorage's copy of the note current, edits from other devices included.
  useEffect(() => {
    if (targetNote && targetNote.text !== capture.base) update({ target, base: targetNote.text, text: targetNote.text, changedAt: Date.now() });
  }, [targetNote?.text]);

  // Left open through a gap (the phone in a pocket between visits), the note
  // is put away too, when the screen is next looked at.
  useEffect(() => {
    const check = () => {
      if (document.visibilityState === "visible" && isFinished(capture, Date.now(), false)) putAway("The last note was left 30 minutes ago: this is a new note.");
    };
    check();
    document.addEventListener("visibilitychange", check);
    return () => document.removeEventListener("visibilitychange", check);
  }, [now, capture]);

  const onInput = (value: string) => {
    const changedAt = Date.now();
    if (!drafts || !reconciled) {
      // Not loaded yet: localStorage is already on the device. Read from it,
      // not from the screen: the app may have settled it meanwhile.
      typedBeforeLoad.current = true;
      update({ ...memory.read(), text: value, changedAt });
      setSaveState(value ? "saved" : "empty");
      return;
    }
    if (target && targetNote) {
      drafts.setNoteText(asDraftId(target.draftId), target.noteId, value);
      update({ target, base: value, text: value, changedAt });
    } else if (value.trim()) {
      const { id, noteId } = drafts.create(value);
      setStartedHere(noteId);
      update({ target: { draftId: id, noteId }, base: value, text: value, changedAt });
    } else {
      update({ target: null, base: "", text: value });
    }
    setSaveState("saving");
    clearTimeout(saveTimer.current);
    saveTimer.current = setTimeout(() => {
      void drafts.flush().then(() => setSaveState("saved"));
    }, SAVE_SETTLE_MS);
  };

  const field = () => document.getElementById("capture-note") as HTMLTextAreaElement | null;

  /** Empties the field for a new note; the one it held stays in the drafts. */
  function putAway(message: string) {
    update(startNewNote(memory.read(), reconciled));
    setSaveState("empty");
    setAnnouncement(message);
    const el = field();
    if (el) el.value = "";
    return el;
  }

  const newNote = () => {
    putAway(text.trim() ? "Note kept in your drafts. Start the next one." : "")?.focus();
  };

  const addTo = (draftId: DraftId) => {
    if (!drafts) return;
    const noteId = drafts.addNote(draftId);
    update({ target: { draftId, noteId }, base: "", text: "", changedAt: Date.now() });
    setSaveState("empty");
    const el = field();
    if (el) el.value = "";
    el?.focus();
    setAnnouncement("Adding a note to this draft.");
  };

  const recent = (drafts?.list() ?? []).filter((draft) => draft.doc && draft.id !== target?.draftId).slice(0, RECENT_DRAFTS);
  const addingTo = targetDoc && targetDoc.notes.length > 1 ? summarize(targetDoc).title : null;
  // Said plainly, with the way out beside it, so one visit does not run on into the next.
  const continuing = targetDoc && target && target.noteId !== startedHere ? visitLabel(targetDoc.createdAt, now) : null;

  return (
    <section class="capture" aria-labelledby="capture-heading">
      <h1 id="capture-heading" class="screen-title">
        {addingTo ? "Add to draft" : "Capture"}
      </h1>
      {continuing && (
        <div class="adding-to">
          <p id="capture-adding-to">
            Adding to: <strong>{continuing}</strong>
          </p>
          <button type="button" class="button button-primary" onClick={newNote}>
            Start a new note
          </button>
        </div>
      )}
      <label for="capture-note" class="field-label">
        {addingTo ? `New note in “${addingTo}”` : "What happened, and what did you learn?"}
      </label>
      <TextField
        id="capture-note"
        class="capture-field"
        rows={7}
        value={text}
        onInput={onInput}
        autoFocus
        describedBy={continuing ? "capture-adding-to capture-saved" : "capture-saved"}
        placeholder="Type or dictate. It is saved as you type."
      />
      <p id="capture-saved" class={`save-state save-${saveState}`} aria-live="polite">
        {saveState === "saved" ? `✓ Saved on this ${deviceWord}` : saveState === "saving" ? "Saving…" : "Nothing to save yet"}
      </p>
      <Boundary what="the check for identifying details">
        <CaptureFlags text={text} inputId="capture-note" drafts={reconciled ? drafts : null} draftId={targetDoc ? target!.draftId : null} kept={targetDoc?.dismissedFlags ?? []} />
      </Boundary>
      <p class="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      {!continuing && (
        <button type="button" class="button button-primary button-big" onClick={newNote}>
          Start a new note
        </button>
      )}
      {/* A recording goes into the draft being written, else into a new one. */}
      <Boundary what="the voice recorder">
        <VoiceRecorder userId={userId} drafts={reconciled ? drafts : null} targetDraft={target?.draftId ?? null} />
      </Boundary>
      <Boundary what="your recent drafts">
      {recent.length > 0 && (
        <section class="recent" aria-labelledby="recent-heading">
          <h2 id="recent-heading">Recent drafts</h2>
          <ul class="recent-list">
            {recent.map((draft) => {
              const summary = summarize(draft.doc!);
              return (
                <li key={draft.id} class="recent-item">
                  <a href={`#/entries/${draft.id}`} class="recent-link">
                    <span class="recent-title">{summary.title}</span>
                    <span class="recent-meta">
                      {summary.noteCount === 1 ? "1 note" : `${summary.noteCount} notes`} · {formatWhen(summary.updatedAt, now)}
                    </span>
                  </a>
                  <button type="button" class="button button-secondary" onClick={() => addTo(draft.id)} aria-label={`Add a note to “${summary.title}”`}>
                    Add note
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      )}
      </Boundary>
    </section>
  );
}
