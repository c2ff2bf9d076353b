import { useEffect, useMemo, useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import type { DraftId } from "../sync/ids";
import type { SupervisionRecord } from "../sync/supervision";
import type { EntryDoc } from "../sync/schema";
import { useSubscription } from "../ui/hooks";
import { Discussion } from "./Discussion";
import { RoleField } from "./RoleField";
import { roleProblem, shareBlocked, supervisionBlocked, topicOf } from "./rules";
import { SeenContributions } from "./unread";

/** On the owner's entry: share it with a supervisor to read, and their
 * comments on it beside it (from this entry's view or a year's). */
export function SupervisionPanel({ client, id, doc }: { client: SyncClient; id: DraftId; doc: EntryDoc }) {
  const supervision = client.supervision;
  const records = useSubscription((listener) => supervision.subscribe(listener), () => supervision.forEntry(id));
  const own = records.find((record) => record.doc?.scope.kind === "entry");
  return (
    <section class="supervision-panel" aria-labelledby="supervision-panel-heading">
      <h2 id="supervision-panel-heading">Supervisor's comments</h2>
      {records.map((record) => (
        <Comments key={record.id} client={client} record={record} entryId={id} />
      ))}
      {!own && <ShareWithSupervisor client={client} id={id} doc={doc} />}
    </section>
  );
}

function Comments({ client, record, entryId }: { client: SyncClient; record: SupervisionRecord; entryId: DraftId }) {
  const me = client.supervision.userId;
  const key = `${record.id}/${entryId}`;
  const seen = useMemo(() => new SeenContributions(me), [me]);
  const comments = client.supervision.comments(record.id, entryId);
  const [fresh] = useState(() => new Set<string>());
  for (const commentId of seen.unseen(key, comments)) fresh.add(commentId);
  useEffect(() => seen.markSeen(key, comments), [comments.length]);
  const from = record.doc?.scope.kind === "year" ? `From the supervisor view of your ${record.doc.scope.year} portfolio.` : "Shared with your supervisor to read.";
  return (
    <div class="supervision-comments">
      <p>{from}</p>
      <p>
        <a class="button button-secondary" href={`#/supervision/${record.id}/${entryId}`}>
          Open the supervisor view{fresh.size > 0 ? ` (${fresh.size} new)` : ""}
        </a>
      </p>
      <Discussion contributions={comments} me={me} fresh={fresh} empty="No comments yet." />
    </div>
  );
}

function ShareWithSupervisor({ client, id, doc }: { client: SyncClient; id: DraftId; doc: EntryDoc }) {
  const [open, setOpen] = useState(false);
  const [role, setRole] = useState("Social worker");
  // Open flags in SWE's fields are shown on the form and told under Reflect with a peer: here only briefly.
  const blocked = shareBlocked(doc) ? "A supervisor can read this entry once its possible identifying details are edited or kept." : supervisionBlocked(doc);
  if (blocked) {
    return (
      <p class="notice" role="note">
        {blocked}
      </p>
    );
  }
  if (!open) {
    return (
      <>
        <p>Let your supervisor read this entry, as it changes, and leave comments beside it. They cannot change the entry, and see you by role.</p>
        <button type="button" class="button button-secondary" onClick={() => setOpen(true)}>
          Share with a supervisor
        </button>
      </>
    );
  }
  const problem = roleProblem(role);
  const start = () => {
    const supervisionId = client.supervision.start({ scope: { kind: "entry", entryId: id }, topic: topicOf(doc), entries: [id], role: role.trim() });
    location.hash = `#/supervision/${supervisionId}`;
  };
  return (
    <form
      class="start-supervision"
      onSubmit={(event) => {
        event.preventDefault();
        if (!problem) start();
      }}
    >
      <RoleField id="supervision-role" value={role} onInput={setRole} problem={problem} label="Your professional role (shown with your replies, never your name)" />
      <button type="submit" class="button button-primary" disabled={!!problem}>
        Share to read, with comments
      </button>
    </form>
  );
}
