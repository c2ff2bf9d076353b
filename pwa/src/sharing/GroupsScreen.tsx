import { useMemo, useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import { useSubscription } from "../ui/hooks";
import { RoleField } from "./RoleField";
import { openFlags, roleProblem } from "./rules";
import { SeenContributions } from "./unread";

/** The peer learning groups this user runs or belongs to, and starting one. */
export function GroupsScreen({ client }: { client: SyncClient | null }) {
  const groups = client?.groups ?? null;
  const records = useSubscription(groups ? (listener) => groups.subscribe(listener) : null, () => groups?.list() ?? null);
  const seen = useMemo(() => (groups ? new SeenContributions(groups.userId) : null), [groups]);
  return (
    <section class="groups" aria-labelledby="groups-heading">
      <a class="back-link" href="#/entries">
        ← All entries
      </a>
      <h1 id="groups-heading" class="screen-title">
        Peer learning groups
      </h1>
      <p>A group meets in sessions: each member adds what was discussed, by role, on their own device, with or without signal. Link a session to an entry of yours as its peer discussion. Members can be in other teams, on the same Fieldbook server.</p>
      {!client || !records || !seen ? (
        <p class="empty">Opening…</p>
      ) : records.length === 0 ? (
        <p class="empty">You are not in a group yet. Start one below, or open a member's invitation link on this device.</p>
      ) : (
        <ul class="draft-list">
          {records.map((record) => {
            const sessions = record.doc?.sessions ?? [];
            const fresh = sessions.reduce((sum, session) => sum + seen.unseen(`${record.id}/${session.id}`, session.discussed).length, 0);
            return (
              <li key={record.id} class="draft-item">
                <a class="draft-link" href={`#/groups/${record.id}`}>
                  <span class="draft-title">{record.doc?.name ?? "A group not on this device yet"}</span>
                  <span class="draft-meta">
                    {record.access === "owner" ? "You run it" : "Member"} · {sessions.length === 1 ? "1 session" : `${sessions.length} sessions`}
                    {fresh > 0 && <span class="badge-new">{fresh} new</span>}
                  </span>
                </a>
              </li>
            );
          })}
        </ul>
      )}
      {client && <StartGroup client={client} />}
    </section>
  );
}

function StartGroup({ client }: { client: SyncClient }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState("Social worker");
  const [tried, setTried] = useState(false);
  const nameProblem = !name.trim() ? "Give the group a name." : openFlags(name).length > 0 ? "That may identify someone: name the group by its subject or team, never by a person." : null;
  const problem = roleProblem(role);
  const start = (event: Event) => {
    event.preventDefault();
    setTried(true);
    if (nameProblem || problem) return;
    location.hash = `#/groups/${client.groups.start(name, role.trim())}`;
  };
  return (
    <form class="start-group" onSubmit={start} noValidate aria-labelledby="start-group-heading">
      <h2 id="start-group-heading">Start a group</h2>
      <label for="group-name" class="field-label">
        Group name
      </label>
      <input id="group-name" class="input" value={name} placeholder="e.g. Lone workers in adult services" aria-describedby={tried && nameProblem ? "group-name-problem" : undefined} onInput={(event) => setName(event.currentTarget.value)} />
      {tried && nameProblem && (
        <p id="group-name-problem" class="field-warning">
          {nameProblem}
        </p>
      )}
      <RoleField id="group-role" value={role} onInput={setRole} problem={tried ? problem : null} label="Your professional role (shown with what you write, never your name)" />
      <button type="submit" class="button button-primary">
        Start the group
      </button>
    </form>
  );
}
