import { useEffect, useMemo, useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import type { SharedDocId } from "../sync/conversations";
import type { SupervisionRecord } from "../sync/supervision";
import type { EntryDoc, SupervisionDoc } from "../sync/schema";
import { ApiError } from "../account/api";
import { summarize } from "../cpd/summary";
import { sweFields } from "../export/text";
import { useSubscription } from "../ui/hooks";
import { removeMember } from "./api";
import { Composer, Discussion } from "./Discussion";
import { InvitePanel } from "./InvitePanel";
import { MembersPanel } from "./MembersPanel";
import { openFlags } from "./rules";
import { planGrants } from "./supervision-grants";
import { SeenContributions } from "./unread";

interface Props {
  client: SyncClient | null;
  id: SharedDocId;
  /** One entry of a year's portfolio; null for the view itself. */
  entryId: string | null;
}

/** A supervisor view: the owner's entry (or a year's entries) to read, and
 * the comments both sides write beside each entry, by role. */
export function SupervisionScreen({ client, id, entryId }: Props) {
  const supervision = client?.supervision ?? null;
  const record = useSubscription(supervision ? (listener) => supervision.subscribe(listener) : null, () => supervision?.get(id));
  const drafts = useSubscription(client ? (listener) => client.drafts.subscribe(listener) : null, () => client?.drafts.list() ?? []);

  if (!client) return <p class="empty">Opening…</p>;
  if (!record) {
    return (
      <section class="supervision">
        <h1 class="screen-title">Not on this device</h1>
        <p>It may have been unshared or deleted. Anything shared with you is listed under Shared with me.</p>
        <a class="button button-secondary" href="#/shared">
          Shared with me
        </a>
      </section>
    );
  }
  if (!record.doc) {
    return (
      <section class="supervision">
        <h1 class="screen-title">Not on this device yet</h1>
        <p>It arrives when this device is online.</p>
      </section>
    );
  }
  const doc = record.doc;
  const owner = record.access === "owner";
  const shown = entryId ?? (doc.scope.kind === "entry" ? doc.scope.entryId : null);
  const entryOf = (entry: string): EntryDoc | null => (owner ? (drafts.find((draft) => draft.id === entry)?.doc ?? null) : client.supervision.sharedEntry(entry));
  const back = owner ? (doc.scope.kind === "entry" ? `#/entries/${doc.scope.entryId}` : "#/year") : "#/shared";

  return (
    <section class="supervision" aria-labelledby="supervision-heading">
      {entryId && doc.scope.kind === "year" ? (
        <a class="back-link" href={`#/supervision/${id}`}>
          ← {doc.topic}
        </a>
      ) : (
        <a class="back-link" href={back}>
          {owner ? (doc.scope.kind === "entry" ? "← Back to the entry" : "← Year") : "← Shared with me"}
        </a>
      )}
      <p class="draft-meta">Supervisor view · {owner ? "your supervisor reads, and comments" : "you read, and comment"}</p>
      <h1 id="supervision-heading" class="screen-title">
        {shown ? titleOf(entryOf(shown)) : doc.topic}
      </h1>
      <SupervisionMembers client={client} record={record} doc={doc} />
      {shown ? (
        <EntryWithComments client={client} record={record} doc={doc} entryId={shown} entry={entryOf(shown)} />
      ) : (
        <EntryList client={client} record={record} doc={doc} entryOf={entryOf} held={owner ? planGrants(doc.scope, drafts, Object.keys(doc.entries)).held.length : 0} />
      )}
      {owner && (
        <InvitePanel
          id={record.id}
          role="writer"
          include={() => Object.keys(client.supervision.get(record.id)?.doc?.entries ?? {}).map((documentId) => ({ documentId, role: "reader" as const }))}
          defaultName={client.drafts.profile().name}
          heading="Invite your supervisor"
          who="your supervisor"
          kind="supervision"
        />
      )}
    </section>
  );
}

function titleOf(entry: EntryDoc | null): string {
  if (!entry) return "An entry not on this device yet";
  const title = summarize(entry).title;
  return openFlags(title, entry.dismissedFlags ?? []).length === 0 ? title : "A piece of CPD";
}

/** The owner's removing a supervisor, or a supervisor's leaving, takes every
 * entry of the view with it. */
function SupervisionMembers({ client, record, doc }: { client: SyncClient; record: SupervisionRecord; doc: SupervisionDoc }) {
  const owner = record.access === "owner";
  const me = client.supervision.userId;
  const gone = async (userId: string) => {
    for (const entryId of Object.keys(doc.entries)) {
      await removeMember(entryId, userId).catch((err) => {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      });
    }
    if (owner) client.supervision.forgetParticipant(record.id, userId);
  };
  return <MembersPanel id={record.id} me={me} ownerId={doc.ownerId} owner={owner} roles={doc.roles} what="supervisor view" onGone={gone} />;
}

function EntryList({ client, record, doc, entryOf, held }: { client: SyncClient; record: SupervisionRecord; doc: SupervisionDoc; entryOf: (id: string) => EntryDoc | null; held: number }) {
  const seen = useMemo(() => new SeenContributions(client.supervision.userId), [client]);
  const ids = Object.keys(doc.entries).sort((a, b) => (entryOf(b)?.activityDate ?? "").localeCompare(entryOf(a)?.activityDate ?? ""));
  return (
    <section aria-labelledby="supervised-entries-heading">
      <h2 id="supervised-entries-heading">Entries</h2>
      {record.access === "owner" && <p class="hint">Entries you date in this registration year are added as you write them, while Fieldbook is open and online.</p>}
      {held > 0 && (
        <p class="notice" role="note">
          {held === 1 ? "1 entry is" : `${held} entries are`} held back: possible identifying details are still open in {held === 1 ? "it" : "them"}. Edit or keep each one and it is shared.
        </p>
      )}
      {ids.length === 0 ? (
        <p class="empty">No entries shared yet.</p>
      ) : (
        <ul class="draft-list">
          {ids.map((entryId) => {
            const entry = entryOf(entryId);
            const comments = client.supervision.comments(record.id, entryId);
            const fresh = seen.unseen(`${record.id}/${entryId}`, comments).length;
            return (
              <li key={entryId} class="draft-item">
                <a class="draft-link" href={`#/supervision/${record.id}/${entryId}`}>
                  <span class="draft-title">{titleOf(entry)}</span>
                  <span class="draft-meta">
                    {entry?.activityDate ?? "No date yet"} · {comments.length === 1 ? "1 comment" : `${comments.length} comments`}
                    {fresh > 0 && <span class="badge-new">{fresh} new</span>}
                  </span>
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function EntryWithComments({ client, record, doc, entryId, entry }: { client: SyncClient; record: SupervisionRecord; doc: SupervisionDoc; entryId: string; entry: EntryDoc | null }) {
  const me = client.supervision.userId;
  const key = `${record.id}/${entryId}`;
  const seen = useMemo(() => new SeenContributions(me), [me]);
  const comments = client.supervision.comments(record.id, entryId);
  // Marked new while this screen is open, so the mark does not vanish as it is read.
  const [fresh] = useState(() => new Set<string>());
  for (const commentId of seen.unseen(key, comments)) fresh.add(commentId);
  useEffect(() => seen.markSeen(key, comments), [comments.length]);
  const listed = entryId in doc.entries;
  return (
    <div class="entry-layout">
      <section aria-labelledby="read-entry-heading">
        <h2 id="read-entry-heading">The entry{record.access === "owner" ? "" : " (read only)"}</h2>
        {!listed ? (
          <p class="notice" role="note">
            This entry is not shared at the moment: possible identifying details are open in it, or it has left the registration year.
          </p>
        ) : !entry ? (
          <p class="empty">The entry arrives when this device is online.</p>
        ) : (
          <ReadOnlyEntry entry={entry} />
        )}
      </section>
      <section aria-labelledby="comments-heading">
        <h2 id="comments-heading">Comments</h2>
        <Discussion contributions={comments} me={me} fresh={fresh} empty="No comments yet." />
        {listed && (
          <Composer
            id="comment"
            label="Add a comment"
            role={doc.roles[me] ?? ""}
            hint="Seen by everyone this is shared with. Leave out anything that could identify the people you work with."
            onAdd={(text) => client.supervision.comment(record.id, entryId, text)}
          />
        )}
      </section>
    </div>
  );
}

/** SWE's fields as the owner wrote them, each checked again on this side. */
function ReadOnlyEntry({ entry }: { entry: EntryDoc }) {
  const kept = entry.dismissedFlags ?? [];
  return (
    <dl class="shown">
      {sweFields(entry).map((field) => {
        const flags = openFlags(field.text, kept);
        return (
          <div key={field.field}>
            <dt>{field.label}</dt>
            <dd>{field.text || "Not written yet."}</dd>
            {flags.length > 0 && <dd class="field-warning">This may identify someone ({flags.map((flag) => `“${flag.text}”`).join(", ")}).</dd>}
          </div>
        );
      })}
    </dl>
  );
}
