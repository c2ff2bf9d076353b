import { useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import { formatWhen, matchesQuery, STATUS_LABELS, summarize } from "./summary";
import { useNow, useSubscription } from "../ui/hooks";

/** Every draft, newest change first, with search across titles and notes. */
export function DraftsScreen({ client }: { client: SyncClient | null }) {
  const [query, setQuery] = useState("");
  const now = useNow();
  const drafts = client?.drafts ?? null;
  const records = useSubscription(drafts ? (listener) => drafts.subscribe(listener) : null, () => drafts?.list() ?? []);
  const shown = records.filter((record) => (record.doc ? matchesQuery(record.doc, query) : query.trim() === ""));

  return (
    <section class="drafts" aria-labelledby="drafts-heading">
      <h1 id="drafts-heading" class="screen-title">
        Drafts
      </h1>
      <div class="search">
        <label for="draft-search" class="field-label">
          Search titles and notes
        </label>
        <input id="draft-search" type="search" class="input" value={query} onInput={(event) => setQuery(event.currentTarget.value)} autocomplete="off" />
      </div>
      <p class="visually-hidden" aria-live="polite">
        {query ? `${shown.length} ${shown.length === 1 ? "draft matches" : "drafts match"}` : ""}
      </p>
      {!client ? (
        <p class="empty">Opening your drafts…</p>
      ) : records.length === 0 ? (
        <p class="empty">
          No drafts yet. <a href="#/">Capture a note</a> and it will appear here.
        </p>
      ) : shown.length === 0 ? (
        <p class="empty">No drafts match “{query}”.</p>
      ) : (
        <ul class="draft-list">
          {shown.map((record) => {
            if (!record.doc) {
              return (
                <li key={record.id} class="draft-item draft-pending">
                  <span class="draft-title">A draft from another device</span>
                  <span class="draft-meta">It will appear here when this device is online.</span>
                </li>
              );
            }
            const summary = summarize(record.doc);
            return (
              <li key={record.id} class="draft-item">
                <a class="draft-link" href={`#/drafts/${record.id}`}>
                  <span class="draft-title">{summary.title}</span>
                  {summary.snippet && <span class="draft-snippet">{summary.snippet}</span>}
                  <span class="draft-meta">
                    {summary.noteCount === 1 ? "1 note" : `${summary.noteCount} notes`} · {STATUS_LABELS[summary.status]} · changed{" "}
                    {formatWhen(summary.updatedAt, now)}
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
