import { useState } from "preact/hooks";
import type { DraftId } from "../sync/ids";
import type { DraftStore, EntryTextField } from "../sync/drafts";
import type { EntryDoc } from "../sync/schema";
import { formatWhen } from "../cpd/summary";
import { Boundary } from "../ui/Boundary";
import { TextField } from "../ui/TextField";
import { VoiceNote } from "../voice";

/** The fields a note can be inserted into, in SWE's order. */
const TARGETS: { field: EntryTextField; label: string }[] = [
  { field: "description", label: "Description" },
  { field: "learning", label: "What you learnt" },
  { field: "impact", label: "Impact" },
  { field: "peerReflection.text", label: "Peer reflection" },
];

/** The draft's notes, each editable and insertable into SWE's fields. */
export function NotesPanel({ drafts, id, doc, now }: { drafts: DraftStore; id: DraftId; doc: EntryDoc; now: number }) {
  const [focusNote, setFocusNote] = useState<string | null>(null);
  const [inserted, setInserted] = useState("");

  const insert = (noteIndex: number, field: EntryTextField, quote: boolean) => {
    // A voice note's words are its transcript until the user types over them.
    const note = (drafts.get(id)?.doc ?? doc).notes[noteIndex];
    const text = (note.text.trim() || note.transcript?.trim()) ?? "";
    if (!text) return;
    const label = TARGETS.find((t) => t.field === field)?.label;
    const added = drafts.appendParagraph(id, field, quote ? `“${text}”` : text);
    setInserted(added ? `Note ${noteIndex + 1} ${quote ? "quoted" : "inserted"} into ${label}.` : `Note ${noteIndex + 1} is already in ${label}.`);
  };

  return (
    <section class="entry-notes" aria-labelledby="notes-heading">
      <h2 id="notes-heading">Notes</h2>
      <ol class="notes">
        {doc.notes.map((note, index) => (
          <li key={note.id} class="note">
            <Boundary what={`note ${index + 1}`}>
              <label for={`note-${note.id}`} class="field-label">
                Note {index + 1} · {formatWhen(note.createdAt, now)}
                {note.device ? ` · ${note.device}` : ""}
              </label>
              {note.kind === "voice" && note.audio && <VoiceNote note={note} label={`Voice note ${index + 1}`} />}
              <TextField id={`note-${note.id}`} value={note.text} autoFocus={note.id === focusNote} onInput={(text) => drafts.setNoteText(id, note.id, text)} />
              <NoteInsert index={index} onInsert={insert} />
            </Boundary>
          </li>
        ))}
      </ol>
      <p class="note-status" aria-live="polite">
        {inserted}
      </p>
      <button type="button" class="button button-secondary" onClick={() => setFocusNote(drafts.addNote(id))}>
        Add a note
      </button>
    </section>
  );
}

function NoteInsert({ index, onInsert }: { index: number; onInsert: (index: number, field: EntryTextField, quote: boolean) => void }) {
  const [field, setField] = useState<EntryTextField>("description");
  const selectId = `insert-${index}`;
  return (
    <div class="note-insert">
      <label for={selectId} class="visually-hidden">
        Field to add note {index + 1} to
      </label>
      <select id={selectId} class="input select" value={field} onChange={(event) => setField(event.currentTarget.value as EntryTextField)}>
        {TARGETS.map((target) => (
          <option key={target.field} value={target.field}>
            {target.label}
          </option>
        ))}
      </select>
      <button type="button" class="button button-secondary" onClick={() => onInsert(index, field, false)} aria-label={`Insert note ${index + 1} into the chosen field`}>
        Insert
      </button>
      <button type="button" class="button button-secondary" onClick={() => onInsert(index, field, true)} aria-label={`Quote note ${index + 1} in the chosen field`}>
        Quote
      </button>
    </div>
  );
}
