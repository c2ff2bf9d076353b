import type { DraftId } from "../sync/ids";
import type { SyncClient } from "../sync/client";
import type { DraftStore, Removed } from "../sync/drafts";
import type { EntryDoc } from "../sync/schema";
import { formatWhen, STATUS_LABELS, summarize } from "../cpd/summary";
import { Boundary } from "../ui/Boundary";
import { TextField } from "../ui/TextField";
import { useNow, useSubscription } from "../ui/hooks";
import { EvidencePanel } from "../evidence/EvidencePanel";
import { PeerPanel } from "../sharing/PeerPanel";
import { SupervisionPanel } from "../sharing/SupervisionPanel";
import { NotesPanel } from "./NotesPanel";
import { SweForm } from "./SweForm";
import { TextMergeNote } from "./MergeNotes";

interface Props {
  client: SyncClient | null;
  id: DraftId;
  onDeleted: (removed: Removed) => void;
}

/** One entry: its notes beside SWE's form. On a phone the notes come first. */
export function EntryScreen({ client, id, onDeleted }: Props) {
  const drafts = client?.drafts ?? null;
  const record = useSubscription(drafts ? (listener) => drafts.subscribe(listener) : null, () => drafts?.get(id));
  const now = useNow();

  if (!drafts) return <p class="empty">Opening your entries…</p>;
  if (!record) {
    return (
      <section class="entry">
        <h1 class="screen-title">Entry not found</h1>
        <p>It may have been deleted on another device.</p>
        <a class="button button-secondary" href="#/entries">
          Back to entries
        </a>
      </section>
    );
  }
  if (!record.doc) {
    return (
      <section class="entry">
        <h1 class="screen-title">Not on this device yet</h1>
        <p>This entry was written on another device. It will arrive when this device is online.</p>
      </section>
    );
  }
  const doc = record.doc;
  const remove = () => {
    const removed = drafts.remove(id);
    if (removed) onDeleted(removed);
  };

  return (
    <section class="entry" aria-labelledby="entry-heading">
      <a class="back-link" href="#/entries">
        ← All entries
      </a>
      <h1 id="entry-heading" class="screen-title">
        {summarize(doc).title}
      </h1>
      <p class="draft-meta">
        {STATUS_LABELS[doc.status]} · changed {formatWhen(doc.updatedAt, now)}
      </p>
      <Boundary what="the title">
        <EntryTitle drafts={drafts} id={id} doc={doc} />
      </Boundary>
      <div class="entry-layout">
        <Boundary what="the notes">
          <NotesPanel drafts={drafts} id={id} doc={doc} now={now} />
        </Boundary>
        <Boundary what="SWE's form">
          <SweForm drafts={drafts} id={id} doc={doc} />
        </Boundary>
      </div>
      <Boundary what="reflecting with a peer">
        {client && <PeerPanel client={client} id={id} doc={doc} />}
      </Boundary>
      <Boundary what="the supervisor's comments">
        {client && <SupervisionPanel client={client} id={id} doc={doc} />}
      </Boundary>
      <Boundary what="the evidence">
        <EvidencePanel drafts={drafts} id={id} doc={doc} />
      </Boundary>
      <div class="actions">
        <button type="button" class="button button-danger" onClick={remove}>
          Delete entry
        </button>
      </div>
    </section>
  );
}

function EntryTitle({ drafts, id, doc }: { drafts: DraftStore; id: DraftId; doc: EntryDoc }) {
  return (
    <div class="entry-title">
      <label for="entry-title" class="field-label">
        Title (for your own list)
      </label>
      <TextField id="entry-title" class="input" rows={1} value={doc.title} onInput={(value) => drafts.setText(id, "title", value.replace(/\n/g, " "))} placeholder="e.g. Working with an interpreter" />
      <TextMergeNote drafts={drafts} id={id} merges={drafts.merges(id)} field="title" />
    </div>
  );
}
