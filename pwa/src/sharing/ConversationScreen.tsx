import { useEffect, useMemo, useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import type { ConversationRecord, SharedDocId } from "../sync/conversations";
import type { Contribution, ConversationDoc } from "../sync/schema";
import { flagKey } from "../anonymise/flag-key";
import { ApiError } from "../account/api";
import { TextField } from "../ui/TextField";
import { useSubscription } from "../ui/hooks";
import { createInvitation, listMembers, removeMember, type Invitation, type Member } from "./api";
import { QrCode } from "./QrCode";
import { entryFromConversation, openFlags } from "./rules";
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
  for (const contributionId of seen.unseen(record.id, doc)) fresh.add(contributionId);
  useEffect(() => seen.markSeen(record.id, doc), [doc]);
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
      <Members client={client} record={record} doc={doc} />
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
        {doc.contributions.length === 0 ? (
          <p class="empty">Nothing written yet.</p>
        ) : (
          <ol class="contributions">
            {[...doc.contributions]
              .sort((a, b) => a.createdAt - b.createdAt)
              .map((contribution) => (
                <ContributionItem key={contribution.id} contribution={contribution} mine={contribution.authorId === me} fresh={fresh.has(contribution.id)} />
              ))}
          </ol>
        )}
        {record.access === "reader" ? <p class="hint">You can read this conversation but not write in it.</p> : <Composer client={client} id={record.id} role={doc.roles[me] ?? ""} />}
      </section>
      {owner ? (
        <Invite id={record.id} defaultName={client.drafts.profile().name} />
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

function ContributionItem({ contribution, mine, fresh }: { contribution: Contribution; mine: boolean; fresh: boolean }) {
  const flags = openFlags(contribution.text);
  return (
    <li class="contribution" data-new={fresh && !mine ? "true" : undefined}>
      <p class="contribution-meta">
        <strong>{mine ? `You (${contribution.role})` : contribution.role || "Peer"}</strong>
        {" · "}
        {new Date(contribution.createdAt).toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: "Europe/London" })}
        {fresh && !mine && <span class="badge-new">New</span>}
      </p>
      <p class="contribution-text">{contribution.text}</p>
      {flags.length > 0 && (
        <p class="field-warning">
          This may identify someone ({flags.map((flag) => `“${flag.text}”`).join(", ")}). {mine ? "Say so in a new contribution, or ask the owner to remove the share." : "Ask the writer to take it out."}
        </p>
      )}
    </li>
  );
}

/** Writing in the discussion: checked for identifying details before it is shared. */
function Composer({ client, id, role }: { client: SyncClient; id: SharedDocId; role: string }) {
  const [text, setText] = useState("");
  const [kept, setKept] = useState<string[]>([]);
  const flags = openFlags(text, kept);
  const add = () => {
    if (flags.length > 0 || !text.trim()) return;
    client.conversations.contribute(id, text);
    setText("");
    setKept([]);
  };
  return (
    <div class="composer">
      <label for="contribution" class="field-label">
        Add to the discussion{role ? ` (as ${role})` : ""}
      </label>
      <TextField id="contribution" rows={3} value={text} onInput={setText} describedBy="contribution-hint" />
      <p id="contribution-hint" class="hint">
        Shared with everyone in this conversation. Leave out anything that could identify the people you work with.
      </p>
      {flags.length > 0 && (
        <ul class="flags" aria-label="Possible identifying details">
          {flags.map((flag) => (
            <li key={`${flag.start}-${flag.kind}`} class="flag">
              <span>
                <strong>“{flag.text}”</strong> {flag.why}
              </span>
              <span class="flag-actions">
                <button type="button" class="button button-secondary" onClick={() => setKept([...kept, flagKey(flag)])} aria-label={`Keep “${flag.text}”: it does not identify anyone`}>
                  Keep
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      <button type="button" class="button button-primary" disabled={flags.length > 0 || !text.trim()} onClick={add}>
        Add to the discussion
      </button>
    </div>
  );
}

/** Who the conversation is shared with; the owner removes, a member leaves. */
function Members({ client, record, doc }: { client: SyncClient; record: ConversationRecord; doc: ConversationDoc }) {
  const me = client.conversations.userId;
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState("");
  const owner = record.access === "owner";
  const load = () =>
    listMembers(record.id)
      .then((list) => setMembers(list.filter((member) => member.role !== "owner" && member.userId !== doc.ownerId)))
      .catch(() => setMembers(null));
  useEffect(() => {
    void load();
  }, [record.id, Object.keys(doc.roles).length]);
  // Offline, the roles written in the conversation say who joined.
  const count = members?.length ?? Object.keys(doc.roles).filter((userId) => userId !== doc.ownerId).length;
  const remove = async (member: Member) => {
    setError("");
    try {
      await removeMember(record.id, member.userId);
      client.conversations.forgetParticipant(record.id, member.userId);
      await load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Could not remove them. Try again.");
    }
  };
  const leave = async () => {
    setError("");
    try {
      await removeMember(record.id, me);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Could not leave. Try again.");
    }
  };
  return (
    <section class="members" aria-labelledby="members-heading">
      <h2 id="members-heading" class="members-summary">
        {count === 0 ? "Not shared with anyone yet" : `Shared with ${count} ${count === 1 ? "person" : "people"}`}
      </h2>
      {owner && members && members.length > 0 && (
        <ul class="member-list">
          {members.map((member) => (
            <li key={member.userId} class="member">
              <span>
                {member.displayName || "A peer"}
                {doc.roles[member.userId] ? ` · ${doc.roles[member.userId]}` : ""}
              </span>
              <button type="button" class="button button-danger" onClick={() => void remove(member)} aria-label={`Remove ${member.displayName || "this peer"} from the conversation`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {!owner && (
        <button type="button" class="button button-link" onClick={() => void leave()}>
          Leave this conversation
        </button>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** A single-use link for one peer, to copy or to scan. */
function Invite({ id, defaultName }: { id: SharedDocId; defaultName: string }) {
  const [displayName, setDisplayName] = useState(defaultName);
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const [error, setError] = useState("");
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  const invite = async () => {
    setError("");
    setBusy(true);
    try {
      setInvitation(await createInvitation(id, "writer", displayName.trim()));
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "";
      setError(
        code === "offline"
          ? "Inviting needs a connection. Everything you write meanwhile is saved and shared when you invite."
          : err instanceof ApiError && err.status === 404
            ? "The conversation has not reached the server yet. Try again once the status says everything is synced."
            : err instanceof ApiError
              ? err.message
              : "Could not make an invitation. Try again.",
      );
    } finally {
      setBusy(false);
    }
  };
  const copy = async () => {
    if (!invitation) return;
    await navigator.clipboard.writeText(invitation.url);
    setCopied(true);
  };
  return (
    <section class="invite" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite a peer</h2>
      <p>The link lets one person join, once, within 7 days. Send it yourself, or let them scan the code. Fieldbook sends nothing to anyone.</p>
      {!invitation ? (
        <>
          <label for="owner-name" class="field-label">
            Your name as your peer will see it
          </label>
          <input id="owner-name" class="input" autocomplete="name" value={displayName} onInput={(event) => setDisplayName(event.currentTarget.value)} />
          <div class="actions">
            <button type="button" class="button button-primary" disabled={busy} onClick={() => void invite()}>
              {busy ? "Please wait…" : "Make an invitation link"}
            </button>
          </div>
        </>
      ) : (
        <>
          <label for="invite-link" class="field-label">
            Invitation link
          </label>
          <input id="invite-link" class="input" readOnly value={invitation.url} onFocus={(event) => event.currentTarget.select()} />
          <div class="actions">
            <button type="button" class="button button-secondary" onClick={() => void copy()}>
              {copied ? "Copied ✓" : "Copy the link"}
            </button>
            <button type="button" class="button button-secondary" onClick={() => void invite()}>
              Another link
            </button>
          </div>
          <span class="visually-hidden" aria-live="polite">
            {copied ? "Invitation link copied." : ""}
          </span>
          <QrCode text={invitation.url} label="QR code of the invitation link" />
          <p class="hint">Expires {new Date(invitation.expiresAt).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" })}.</p>
        </>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
