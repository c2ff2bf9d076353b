import { useEffect, useMemo, useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import type { SharedDocId } from "../sync/conversations";
import type { GroupRecord } from "../sync/groups";
import type { GroupDoc, GroupSession } from "../sync/schema";
import { summarize } from "../cpd/summary";
import { ukDateOf, isIsoDate } from "../cpd/year";
import { longDate } from "../export/text";
import { DateField } from "../ui/DateField";
import { useSubscription } from "../ui/hooks";
import { Composer, Discussion } from "./Discussion";
import { InvitePanel } from "./InvitePanel";
import { MembersPanel } from "./MembersPanel";
import { entryFromSession, openFlags } from "./rules";
import { SeenContributions } from "./unread";

/** One peer learning group: who is in it, its sessions and what was discussed. */
export function GroupScreen({ client, id, deviceName }: { client: SyncClient | null; id: SharedDocId; deviceName: string }) {
  const groups = client?.groups ?? null;
  const record = useSubscription(groups ? (listener) => groups.subscribe(listener) : null, () => groups?.get(id));
  if (!client) return <p class="empty">Opening…</p>;
  if (!record) {
    return (
      <section class="group">
        <h1 class="screen-title">Group not on this device</h1>
        <p>It may have been unshared or deleted. Your groups are listed under Peer learning groups.</p>
        <a class="button button-secondary" href="#/groups">
          Peer learning groups
        </a>
      </section>
    );
  }
  if (!record.doc) {
    return (
      <section class="group">
        <h1 class="screen-title">Not on this device yet</h1>
        <p>The group arrives when this device is online.</p>
      </section>
    );
  }
  const doc = record.doc;
  const owner = record.access === "owner";
  const me = client.groups.userId;
  const sessions = [...doc.sessions].sort((a, b) => b.date.localeCompare(a.date) || b.createdAt - a.createdAt);
  return (
    <section class="group" aria-labelledby="group-heading">
      <a class="back-link" href="#/groups">
        ← Peer learning groups
      </a>
      <p class="draft-meta">Peer learning group</p>
      <h1 id="group-heading" class="screen-title">
        {doc.name}
      </h1>
      <MembersPanel id={record.id} me={me} ownerId={doc.ownerId} owner={owner} roles={doc.roles} what="group" onGone={(userId) => (owner ? client.groups.forgetParticipant(record.id, userId) : undefined)} />
      {record.access !== "reader" && <NewSession client={client} id={record.id} />}
      <h2>Sessions</h2>
      {sessions.length === 0 ? (
        <p class="empty">No sessions yet.</p>
      ) : (
        sessions.map((session) => <Session key={session.id} client={client} record={record} doc={doc} session={session} deviceName={deviceName} />)
      )}
      {owner && <InvitePanel id={record.id} role="writer" defaultName={client.drafts.profile().name} heading="Invite a member" who="the member" kind="group" />}
    </section>
  );
}

function NewSession({ client, id }: { client: SyncClient; id: SharedDocId }) {
  const [date, setDate] = useState<string | null>(() => ukDateOf(new Date()));
  const [topic, setTopic] = useState("");
  const [tried, setTried] = useState(false);
  const problem = !topic.trim() ? "Give the session's topic." : openFlags(topic).length > 0 ? "That may identify someone: give the subject, never a person or a case." : !date || !isIsoDate(date) ? "Give the day the group met." : null;
  const add = (event: Event) => {
    event.preventDefault();
    setTried(true);
    if (problem || !date) return;
    client.groups.addSession(id, date, topic);
    setTopic("");
    setTried(false);
  };
  return (
    <form class="new-session" onSubmit={add} noValidate aria-labelledby="new-session-heading">
      <h2 id="new-session-heading">Add a session</h2>
      <label for="session-date" class="field-label">
        Date
      </label>
      <DateField id="session-date" value={date} onChange={setDate} />
      <label for="session-topic" class="field-label">
        Topic
      </label>
      <input id="session-topic" class="input" value={topic} aria-describedby={tried && problem ? "session-problem" : undefined} onInput={(event) => setTopic(event.currentTarget.value)} />
      {tried && problem && (
        <p id="session-problem" class="field-warning">
          {problem}
        </p>
      )}
      <button type="submit" class="button button-primary">
        Add the session
      </button>
    </form>
  );
}

function Session({ client, record, doc, session, deviceName }: { client: SyncClient; record: GroupRecord; doc: GroupDoc; session: GroupSession; deviceName: string }) {
  const me = client.groups.userId;
  const key = `${record.id}/${session.id}`;
  const seen = useMemo(() => new SeenContributions(me), [me]);
  // Marked new while this screen is open, so the mark does not vanish as it is read.
  const [fresh] = useState(() => new Set<string>());
  for (const contributionId of seen.unseen(key, session.discussed)) fresh.add(contributionId);
  useEffect(() => seen.markSeen(key, session.discussed), [session.discussed.length]);
  const headingId = `session-${session.id}`;
  const topicFlags = openFlags(session.topic);
  return (
    <section class="session" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {session.topic} · {longDate(session.date)}
      </h3>
      {topicFlags.length > 0 && <p class="field-warning">This topic may identify someone ({topicFlags.map((flag) => `“${flag.text}”`).join(", ")}). Ask the writer to change it.</p>}
      <Discussion contributions={session.discussed} me={me} fresh={fresh} empty="Nothing written about this session yet." />
      {record.access !== "reader" && (
        <Composer
          id={`discussed-${session.id}`}
          label="Add what was discussed"
          role={doc.roles[me] ?? ""}
          hint="Shared with everyone in the group. Leave out anything that could identify the people you work with."
          onAdd={(text) => client.groups.addToSession(record.id, session.id, text)}
        />
      )}
      <LinkToEntry client={client} record={record} doc={doc} session={session} deviceName={deviceName} />
    </section>
  );
}

/** A member makes the session the peer discussion of an entry of their own. */
function LinkToEntry({ client, record, doc, session, deviceName }: { client: SyncClient; record: GroupRecord; doc: GroupDoc; session: GroupSession; deviceName: string }) {
  const drafts = useSubscription((listener) => client.drafts.subscribe(listener), () => client.drafts.list());
  const linked = client.groups.entriesLinkedTo(record.id, session.id);
  const [choice, setChoice] = useState("new");
  const selectId = `link-${session.id}`;
  const link = () => {
    const entryId = choice === "new" ? client.drafts.importEntry(entryFromSession(doc, session, client.groups.userId, deviceName, Date.now())) : choice;
    client.groups.linkSession(entryId, { groupId: record.id, sessionId: session.id });
    location.hash = `#/entries/${entryId}`;
  };
  return (
    <div class="link-session">
      {linked.length > 0 && (
        <>
          <p>The peer discussion of your {linked.length === 1 ? "entry" : "entries"}:</p>
          <ul class="linked-entries">
            {linked.map((entryId) => {
              const entry = drafts.find((draft) => draft.id === entryId)?.doc;
              return (
                <li key={entryId}>
                  <a class="button button-secondary" href={`#/entries/${entryId}`}>
                    {entry ? summarize(entry).title : "An entry not on this device yet"}
                  </a>
                </li>
              );
            })}
          </ul>
        </>
      )}
      <label for={selectId} class="field-label">
        Use as the peer discussion of
      </label>
      <select id={selectId} class="input select" value={choice} onChange={(event) => setChoice(event.currentTarget.value)}>
        <option value="new">A new entry of mine</option>
        {drafts
          .filter((draft) => draft.doc && !linked.includes(draft.id))
          .map((draft) => (
            <option key={draft.id} value={draft.id}>
              {summarize(draft.doc!).title}
            </option>
          ))}
      </select>
      <button type="button" class="button button-secondary" onClick={link}>
        Link to my entry
      </button>
    </div>
  );
}
