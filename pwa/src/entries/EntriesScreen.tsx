import { useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import { formatWhen, matchesQuery, STATUS_LABELS, summarize } from "../cpd/summary";
import { useNow, useSubscription } from "../ui/hooks";
import { PCF_DOMAINS, SWE_STANDARDS } from "../cpd/rules";
import { Nudges } from "../dashboard/Nudges";
import { Boundary } from "../ui/Boundary";
import { listedShares } from "../sharing/routes";
import type { EntryDoc } from "../sync/schema";

/** A tag filter value: "standards:4.1", "pcf:values", or "" for every entry. */
function hasTag(doc: EntryDoc, filter: string): boolean {
  if (!filter) return true;
  const [list, id] = filter.split(":") as ["standards" | "pcf", string];
  return (doc[list] ?? []).includes(id);
}

/** Every entry, newest change first, with search across titles and notes and a tag filter. */
export function EntriesScreen({ client }: { client: SyncClient | null }) {
  const [query, setQuery] = useState("");
  const [tag, setTag] = useState("");
  const now = useNow();
  const drafts = client?.drafts ?? null;
  const records = useSubscription(drafts ? (listener) => drafts.subscribe(listener) : null, () => drafts?.list() ?? []);
  const shown = records.filter((record) => (record.doc ? matchesQuery(record.doc, query) && hasTag(record.doc, tag) : query.trim() === "" && !tag));
  const loaded = records.flatMap((record) => (record.doc ? [record.doc] : []));
  const conversations = client?.conversations ?? null;
  const sharedCount = useSubscription(conversations ? (listener) => conversations.subscribe(listener) : null, () => (client ? listedShares(client).length : 0));

  return (
    <section class="drafts" aria-labelledby="entries-heading">
      <h1 id="entries-heading" class="screen-title">
        Entries
      </h1>
      <p class="actions">
        <a class="button button-secondary" href="#/shared">
          Shared with me{sharedCount > 0 ? ` (${sharedCount})` : ""}
        </a>
        <a class="button button-secondary" href="#/groups">
          Peer learning groups
        </a>
      </p>
      {drafts && (
        <Boundary what="the reminders">
          <Nudges drafts={drafts} entries={loaded} now={now} />
        </Boundary>
      )}
      <div class="search">
        <label for="draft-search" class="field-label">
          Search titles and notes
        </label>
        <input id="draft-search" type="search" class="input" value={query} onInput={(event) => setQuery(event.currentTarget.value)} autocomplete="off" />
      </div>
      <div class="search">
        <label for="tag-filter" class="field-label">
          Show entries tagged
        </label>
        <select id="tag-filter" class="input select" value={tag} onChange={(event) => setTag(event.currentTarget.value)}>
          <option value="">Any tag or none</option>
          <optgroup label="SWE professional standards">
            {SWE_STANDARDS.map((standard) => (
              <option key={standard.id} value={`standards:${standard.id}`}>
                {standard.name}
              </option>
            ))}
          </optgroup>
          <optgroup label="PCF domains">
            {PCF_DOMAINS.map((domain) => (
              <option key={domain.id} value={`pcf:${domain.id}`}>
                {domain.name}
              </option>
            ))}
          </optgroup>
        </select>
      </div>
      <p class="visually-hidden" aria-live="polite">
        {query || tag ? `${shown.length} ${shown.length === 1 ? "entry matches" : "entries match"}` : ""}
      </p>
      {!client ? (
        <p class="empty">Opening your entries…</p>
      ) : records.length === 0 ? (
        <p class="empty">
          No entries yet. <a href="#/">Capture a note</a> and it will appear here.
        </p>
      ) : shown.length === 0 ? (
        <p class="empty">No entries match{query ? ` “${query}”` : ""}{tag ? " that tag" : ""}.</p>
      ) : (
        <ul class="draft-list">
          {shown.map((record) => {
            if (!record.doc) {
              return (
                <li key={record.id} class="draft-item draft-pending">
                  <span class="draft-title">An entry from another device</span>
                  <span class="draft-meta">It will appear here when this device is online.</span>
                </li>
              );
            }
            return (
              <li key={record.id} class="draft-item">
                {/* One entry this version cannot read does not take the list with it. */}
                <Boundary what="this entry">
                  <EntryLink id={record.id} doc={record.doc} now={now} />
                </Boundary>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function EntryLink({ id, doc, now }: { id: string; doc: EntryDoc; now: number }) {
  const summary = summarize(doc);
  return (
    <a class="draft-link" href={`#/entries/${id}`}>
      <span class="draft-title">{summary.title}</span>
      {summary.snippet && <span class="draft-snippet">{summary.snippet}</span>}
      <span class="draft-meta">
        {summary.noteCount === 1 ? "1 note" : `${summary.noteCount} notes`} · {STATUS_LABELS[summary.status]} · changed {formatWhen(summary.updatedAt, now)}
      </span>
    </a>
  );
}
