import { useState } from "preact/hooks";
import type { DocumentId } from "@automerge/automerge-repo/slim";
import type { SyncClient } from "../sync/client";
import type { Removed } from "../sync/drafts";
import { formatWhen, STATUS_LABELS, summarize } from "./summary";
import { TextField } from "../ui/TextField";
import { useNow, useSubscription } from "../ui/hooks";

interface Props {
  client: SyncClient | null;
  id: DocumentId;
  onDeleted: (removed: Removed) => void;
}

/** One draft: its title and notes, each editable; add a note; delete. */
export function DraftScreen({ client, id, onDeleted }: Props) {
  const drafts = client?.drafts ?? null;
  const record = useSubscription(drafts ? (listener) => drafts.subscribe(listener) : null, () => drafts?.get(id));
  const [focusNote, setFocusNote] = useState<string | null>(null);
  const now = useNow();

  if (!drafts) return <p class="empty">Opening your drafts…</p>;
  if (!record) {
    return (
      <section class="draft">
        <h1 class="screen-title">Draft not found</h1>
        <p>It may have been deleted on another device.</p>
        <a class="button button-secondary" href="#/drafts">
          Back to drafts
        </a>
      </section>
    );
  }
  if (!record.doc) {
    return (
      <section class="draft">
        <h1 class="screen-title">Not on this device yet</h1>
        <p>This draft was written on another device. It will arrive when this device is online.</p>
      </section>
    );
  }
  const doc = record.doc;
  const summary = summarize(doc);

  const addNote = () => setFocusNote(drafts.addNote(id));
  const remove = () => {
    const removed = drafts.remove(id);
    if (removed) onDeleted(removed);
  };

  return (
    <section class="draft" aria-labelledby="draft-heading">
      <a class="back-link" href="#/drafts">
        ← All drafts
      </a>
      <h1 id="draft-heading" class="screen-title">
        {summary.title}
      </h1>
      <p class="draft-meta">
        {STATUS_LABELS[doc.status]} · changed {formatWhen(doc.updatedAt, now)}
      </p>
      <label for="draft-title" class="field-label">
        Title (for your own list)
      </label>
      <input
        id="draft-title"
        class="input"
        value={doc.title}
        placeholder="e.g. Working with an interpreter"
        onInput={(event) => drafts.setText(id, "title", event.currentTarget.value)}
      />
      <h2>Notes</h2>
      <ol class="notes">
        {doc.notes.map((note, index) => (
          <li key={note.id} class="note">
            <label for={`note-${note.id}`} class="field-label">
              Note {index + 1} · {formatWhen(note.createdAt, now)}
              {note.device ? ` · ${note.device}` : ""}
            </label>
            <TextField id={`note-${note.id}`} value={note.text} autoFocus={note.id === focusNote} onInput={(text) => drafts.setNoteText(id, note.id, text)} />
          </li>
        ))}
      </ol>
      <div class="actions">
        <button type="button" class="button button-primary" onClick={addNote}>
          Add a note
        </button>
        <button type="button" class="button button-danger" onClick={remove}>
          Delete draft
        </button>
      </div>
    </section>
  );
}
