import { useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import type { SharedDocId } from "../sync/conversations";
import type { DraftId } from "../sync/ids";
import type { Contribution, EntryDoc } from "../sync/schema";
import { useSubscription } from "../ui/hooks";
import { SHARE_PARTS, partProblem, roleProblem, shareBlocked, topicOf, type SharePart } from "./rules";
import { RoleField } from "./RoleField";
import { SeenContributions } from "./unread";

/** On the owner's entry: start a conversation with a peer about it, or open
 * it and take any part of it into SWE's peer-reflection answer. */
export function PeerPanel({ client, id, doc }: { client: SyncClient; id: DraftId; doc: EntryDoc }) {
  const conversations = client.conversations;
  const record = useSubscription((listener) => conversations.subscribe(listener), () => conversations.forEntry(id));
  return (
    <section class="peer-panel" aria-labelledby="peer-panel-heading">
      <h2 id="peer-panel-heading">Reflect with a peer</h2>
      {record ? <ConversationExtracts client={client} entryId={id} conversationId={record.id} /> : <StartConversation client={client} id={id} doc={doc} />}
      <SessionExtracts client={client} entryId={id} />
    </section>
  );
}

function StartConversation({ client, id, doc }: { client: SyncClient; id: DraftId; doc: EntryDoc }) {
  const [open, setOpen] = useState(false);
  const [parts, setParts] = useState<Record<SharePart, boolean>>({ description: false, learning: false });
  const [role, setRole] = useState("Social worker");
  const blocked = shareBlocked(doc);
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
        <p>Bring a peer into Fieldbook: you both write in one discussion, on your own devices, with or without signal. They see only what you choose below, and you both appear by role, never by name.</p>
        <button type="button" class="button button-primary" onClick={() => setOpen(true)}>
          Reflect with a peer
        </button>
      </>
    );
  }
  const problem = roleProblem(role);
  const start = () => {
    const shown = (part: SharePart) => (parts[part] && !partProblem(doc, part) ? doc[part].trim() : null);
    const conversationId = client.conversations.start(id, { topic: topicOf(doc), description: shown("description"), learning: shown("learning"), role: role.trim() });
    location.hash = `#/conversations/${conversationId}`;
  };
  return (
    <form
      class="start-conversation"
      onSubmit={(event) => {
        event.preventDefault();
        if (!problem) start();
      }}
    >
      <fieldset>
        <legend>What your peer may see of this entry</legend>
        {SHARE_PARTS.map(({ part, label }) => {
          const why = partProblem(doc, part);
          return (
            <div key={part}>
              <label class="check">
                <input type="checkbox" checked={parts[part] && !why} disabled={!!why} aria-describedby={why ? `share-${part}-why` : undefined} onChange={(event) => setParts({ ...parts, [part]: event.currentTarget.checked })} />
                {label}
              </label>
              {why && (
                <p id={`share-${part}-why`} class="hint">
                  {why}
                </p>
              )}
            </div>
          );
        })}
      </fieldset>
      <RoleField id="owner-role" value={role} onInput={setRole} problem={problem} label="Your professional role (shown with what you write, never your name)" />
      <button type="submit" class="button button-primary" disabled={!!problem}>
        Start the conversation
      </button>
    </form>
  );
}

/** The conversation's contributions, each insertable into the peer reflection. */
function ConversationExtracts({ client, entryId, conversationId }: { client: SyncClient; entryId: DraftId; conversationId: SharedDocId }) {
  const conversations = client.conversations;
  const record = useSubscription((listener) => conversations.subscribe(listener), () => conversations.conversation(conversationId));
  const doc = record?.doc;
  const unseen = doc ? new SeenContributions(conversations.userId).unseen(conversationId, doc.contributions).length : 0;
  return (
    <>
      <p>
        <a class="button button-secondary" href={`#/conversations/${conversationId}`}>
          Open the conversation{unseen > 0 ? ` (${unseen} new)` : ""}
        </a>
      </p>
      {!doc ? (
        <p class="empty">The conversation is not on this device yet. It arrives when this device is online.</p>
      ) : (
        <ExtractList client={client} entryId={entryId} contributions={doc.contributions} what="the conversation" discussedOn={null} />
      )}
    </>
  );
}

/** The group session linked to this entry as its peer discussion, each part insertable. */
function SessionExtracts({ client, entryId }: { client: SyncClient; entryId: DraftId }) {
  const groups = client.groups;
  const linked = useSubscription((listener) => groups.subscribe(listener), () => groups.linkedSession(entryId));
  if (!linked) return null;
  return (
    <div class="session-extracts">
      <h3>Peer discussion from a group session</h3>
      {!linked.session || !linked.group ? (
        <p class="empty">The session is not on this device yet, or you have left its group.</p>
      ) : (
        <>
          <p>
            <a class="button button-secondary" href={`#/groups/${linked.groupId}`}>
              {linked.group.name}: {linked.session.topic} ({linked.session.date})
            </a>
          </p>
          <ExtractList client={client} entryId={entryId} contributions={linked.session.discussed} what="the session" discussedOn={linked.session.date} />
        </>
      )}
      <button type="button" class="button button-link" onClick={() => groups.linkSession(entryId, null)}>
        Unlink the session
      </button>
    </div>
  );
}

/** Contributions, each insertable or quotable into the peer reflection;
 * inserting a peer's first sets the peer's role (and the day, for a session). */
function ExtractList({ client, entryId, contributions, what, discussedOn }: { client: SyncClient; entryId: DraftId; contributions: readonly Contribution[]; what: string; discussedOn: string | null }) {
  const me = client.conversations.userId;
  const [status, setStatus] = useState("");
  const insert = (contribution: Contribution, index: number, quote: boolean) => {
    const drafts = client.drafts;
    const entry = drafts.get(entryId)?.doc;
    const fromPeer = contribution.authorId !== me;
    if (fromPeer && entry && !entry.peerReflection?.peerRole && contribution.role) drafts.setPeerReflection(entryId, { peerRole: contribution.role });
    if (discussedOn && entry && !entry.peerReflection?.discussedOn) drafts.setPeerReflection(entryId, { discussedOn });
    const added = drafts.appendParagraph(entryId, "peerReflection.text", quote ? `“${contribution.text}”` : contribution.text);
    setStatus(added ? `Part ${index + 1} of ${what} ${quote ? "quoted" : "inserted"} into Peer reflection.` : `Part ${index + 1} is already in Peer reflection.`);
  };
  if (contributions.length === 0) return <p class="empty">Nothing written in {what} yet.</p>;
  return (
    <>
      <ol class="contributions">
        {contributions.map((contribution, index) => (
          <li key={contribution.id} class="contribution">
            <p class="contribution-meta">{contribution.authorId === me ? `You (${contribution.role})` : contribution.role}</p>
            <p class="contribution-text">{contribution.text}</p>
            <div class="actions">
              <button type="button" class="button button-secondary" onClick={() => insert(contribution, index, false)} aria-label={`Insert part ${index + 1} of ${what} into Peer reflection`}>
                Insert into Peer reflection
              </button>
              <button type="button" class="button button-secondary" onClick={() => insert(contribution, index, true)} aria-label={`Quote part ${index + 1} of ${what} in Peer reflection`}>
                Quote
              </button>
            </div>
          </li>
        ))}
      </ol>
      <p class="note-status" aria-live="polite">
        {status}
      </p>
    </>
  );
}
