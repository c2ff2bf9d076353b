import { useEffect, useMemo, useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import type { ConversationRecord, SharedDocId } from "../sync/conversations";
import type { ConversationDoc } from "../sync/schema";
import { useSubscription } from "../ui/hooks";
import { InvitePanel } from "./InvitePanel";
import { MembersPanel } from "./MembersPanel";
import { Composer, Discussion } from "./Discussion";
import { entryFromConversation } from "./rules";
import { SeenContributions } from "./unread";

interface Props {
  client: SyncClient | null;
  id: SharedDocId;
  deviceName: string;
}

/** A peer conversation: what the owner shows of their entry, and the
 * discussion both sides write in, by role. The owner invites and removes. */
export function ConversationScreen({ client, id, deviceName }: Props) {
  const conversations = client?.conversations ?? null;
  const record = useSubscription(conversations ? (listener) => conversations.subscribe(listener) : null, () => conversations?.conversation(id));

  if (!client || !conversations) return <p class="empty">Opening the conversation…</p>;
  if (!record) {
    return (
      <section class="conversation">
        <h1 class="screen-title">Conversation not on this device</h1>
        <p>It may have been unshared or deleted. Anything shared with you is listed under Shared with me.</p>
        <a class="button button-secondary" href="#/shared">
          Shared with me
        </a>
      </section>
    );
  }
  if (!record.doc) {
    return (
      <section class="conversation">
        <h1 class="screen-title">Not on this device yet</h1>
        <p>The conversation arrives when this device is online.</p>
      </section>
    );
  }
  return <Conversation client={client} record={record} doc={record.doc} deviceName={deviceName} />;
}

function Conversation({ client, record, doc, deviceName }: { client: SyncClient; record: ConversationRecord; doc: ConversationDoc; deviceName: string }) {
  const me = client.conversations.userId;
  const seen = useMemo(() => new SeenContributions(me), [me]);
  // Marked new while this screen is open, so the mark does not vanish as it is read.
  const [fresh] = useState(() => new Set<string>());
  for (const contributionId of seen.unseen(record.id, doc.contributions)) fresh.add(contributionId);
  useEffect(() => seen.markSeen(record.id, doc.contributions), [doc]);
  const owner = record.access === "owner";

  const makeEntry = () => {
    const entryId = client.drafts.importEntry(entryFromConversation(doc, me, deviceName, Date.now()));
    location.hash = `#/entries/${entryId}`;
  };

  return (
    <section class="conversation" aria-labelledby="conversation-heading">
      {record.entryId ? (
        <a class="back-link" href={`#/entries/${record.entryId}`}>
          ← Back to the entry
        </a>
      ) : (
        <a class="back-link" href="#/shared">
          ← Shared with me
        </a>
      )}
      <p class="draft-meta">Peer conversation</p>
      <h1 id="conversation-heading" class="screen-title">
        {doc.topic}
      </h1>
      <MembersPanel id={record.id} me={me} ownerId={doc.ownerId} owner={owner} roles={doc.roles} what="conversation" onGone={(userId) => (owner ? client.conversations.forgetParticipant(record.id, userId) : undefined)} />
      {(doc.shown.description || doc.shown.learning) && (
        <section aria-labelledby="shown-heading">
          <h2 id="shown-heading">{owner ? "What you show of your entry" : "What they shared"}</h2>
          <dl class="shown">
            {doc.shown.description && (
              <>
                <dt>The activity</dt>
                <dd>{doc.shown.description}</dd>
              </>
            )}
            {doc.shown.learning && (
              <>
                <dt>What they learnt</dt>
                <dd>{doc.shown.learning}</dd>
              </>
            )}
          </dl>
        </section>
      )}
      <section aria-labelledby="discussion-heading">
        <h2 id="discussion-heading">Discussion</h2>
        <Discussion contributions={doc.contributions} me={me} fresh={fresh} empty="Nothing written yet." />
        {record.access === "reader" ? <p class="hint">You can read this conversation but not write in it.</p> : <Composer id="contribution" label="Add to the discussion" role={doc.roles[me] ?? ""} hint="Shared with everyone in this conversation. Leave out anything that could identify the people you work with." onAdd={(text) => client.conversations.contribute(record.id, text)} />}
      </section>
      {owner ? (
        <InvitePanel id={record.id} role="writer" defaultName={client.drafts.profile().name} heading="Invite a peer" who="your peer" kind="conversation" />
      ) : (
        <section aria-labelledby="own-entry-heading">
          <h2 id="own-entry-heading">Count it as your CPD too</h2>
          <p>A peer reflection counts for both of you. This makes a draft entry of your own from the conversation, with the discussion as notes.</p>
          <button type="button" class="button button-primary" onClick={makeEntry}>
            Make a CPD entry of my own
          </button>
        </section>
      )}
    </section>
  );
}
