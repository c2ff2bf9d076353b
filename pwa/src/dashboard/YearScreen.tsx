import { useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import type { DraftRecord } from "../sync/drafts";
import type { EntryDoc } from "../sync/schema";
import { summarize, STATUS_LABELS } from "../cpd/summary";
import { useNow, useSubscription } from "../ui/hooks";
import { YearSharePanel } from "../sharing/YearSharePanel";
import { currentRegistrationYear, deadlineMessage, isInYear, yearsWithEntries } from "../cpd/year";
import { nearDuplicates, PEER_REFLECTIONS_NEEDED, PIECES_NEEDED, statusCounts, yearProgress } from "../cpd/rules";

/** What SWE's renewal asks for, ticked off by the user. */
const CHECKLIST = [
  { id: "application", label: "Renewal application form completed" },
  { id: "fee", label: "Registration fee paid" },
  { id: "cpd", label: "CPD recorded on SWE (at least 2 pieces, 1 with a peer reflection)" },
  { id: "submitted", label: "I pressed Submit on SWE" },
] as const;

/** The registration year at a glance: progress, days left, renewal checklist. */
export function YearScreen({ client }: { client: SyncClient | null }) {
  const now = useNow(60_000);
  const drafts = client?.drafts ?? null;
  const records = useSubscription(drafts ? (listener) => drafts.subscribe(listener) : null, () => drafts?.list() ?? []);
  const current = currentRegistrationYear(new Date(now));
  const years = yearsWithEntries(
    records.map((record) => record.doc?.activityDate),
    new Date(now),
  );
  const [label, setLabel] = useState(current.label);
  const year = years.find((y) => y.label === label) ?? current;
  const isCurrent = year.label === current.label;

  const inYear = records.filter((record): record is DraftRecord & { doc: EntryDoc } => !!record.doc?.activityDate && isInYear(record.doc.activityDate, year));
  const undated = records.filter((record) => record.doc && !record.doc.activityDate && record.doc.status !== "draft");
  const progress = yearProgress(
    records.flatMap((record) => (record.doc ? [record.doc] : [])),
    year,
  );
  const { distinctPieces, withPeerReflection } = progress.readyOrRecorded;
  const duplicates = nearDuplicates(inYear.map((record) => ({ id: record.id, entry: record.doc })));
  const checks = drafts?.renewal(year.label) ?? {};

  return (
    <section class="year" aria-labelledby="year-heading">
      <h1 id="year-heading" class="screen-title">
        Registration year {year.label}
      </h1>
      {years.length > 1 && (
        <div class="year-choice">
          <label for="year-select" class="field-label">
            Show year
          </label>
          <select id="year-select" class="input select" value={year.label} onChange={(event) => setLabel(event.currentTarget.value)}>
            {years.map((y) => (
              <option key={y.label} value={y.label}>
                {y.label}
                {y.label === current.label ? " (this year)" : ""}
              </option>
            ))}
          </select>
        </div>
      )}
      {isCurrent && (
        <p class="days-left">
          <strong>{deadlineMessage(year, new Date(now))}</strong>
        </p>
      )}

      <h2>SWE's requirement</h2>
      <ul class="progress-list">
        <li>
          <Meter value={Math.min(distinctPieces, PIECES_NEEDED)} max={PIECES_NEEDED} label="Pieces of CPD" />
          <span>{distinctPieces >= PIECES_NEEDED ? `${distinctPieces} pieces of CPD: done` : `${distinctPieces} of ${PIECES_NEEDED} pieces of CPD`}</span>
        </li>
        <li>
          <Meter value={Math.min(withPeerReflection, PEER_REFLECTIONS_NEEDED)} max={PEER_REFLECTIONS_NEEDED} label="Peer reflection" />
          <span>{withPeerReflection >= PEER_REFLECTIONS_NEEDED ? "Peer reflection: done" : "Peer reflection: not yet (at least 1 piece needs one)"}</span>
        </li>
      </ul>
      <p class="hint">
        Counted: entries ready for SWE or recorded on SWE, dated in this year (near-identical entries count once). {statusCounts(progress, isCurrent)}
      </p>

      {duplicates.length > 0 && (
        <div class="notice" role="note">
          <p>SWE checks that two records are not identical. These look nearly the same:</p>
          <ul>
            {duplicates.map(([a, b]) => (
              <li key={`${a}-${b}`}>
                <a href={`#/entries/${a}`}>{titleOf(records, a)}</a> and <a href={`#/entries/${b}`}>{titleOf(records, b)}</a>
              </li>
            ))}
          </ul>
        </div>
      )}
      {isCurrent && undated.length > 0 && (
        <div class="notice" role="note">
          <p>These entries have no date, so they count for no year:</p>
          <ul>
            {undated.map((record) => (
              <li key={record.id}>
                <a href={`#/entries/${record.id}`}>{summarize(record.doc!).title}</a>
              </li>
            ))}
          </ul>
        </div>
      )}

      <h2>Entries dated in {year.label}</h2>
      {inYear.length === 0 ? (
        <p class="empty">None yet. Give an entry a date in this year and it appears here.</p>
      ) : (
        <ul class="draft-list">
          {inYear.map((record) => (
            <li key={record.id} class="draft-item">
              <a class="draft-link" href={`#/entries/${record.id}`}>
                <span class="draft-title">{summarize(record.doc).title}</span>
                <span class="draft-meta">
                  {STATUS_LABELS[record.doc.status]}
                  {record.doc.peerReflection ? " · with peer reflection" : ""}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}

      {client && <YearSharePanel client={client} label={year.label} />}

      <fieldset class="tags checklist">
        <legend>Renewal checklist</legend>
        {CHECKLIST.map((item) => {
          const inputId = `renewal-${item.id}`;
          return (
            <div key={item.id} class="check">
              <input id={inputId} type="checkbox" checked={!!checks[item.id]} onChange={(event) => drafts?.setRenewal(year.label, item.id, event.currentTarget.checked)} />
              <label for={inputId}>{item.label}</label>
            </div>
          );
        })}
      </fieldset>
      <p>
        <a class="button button-secondary" href="#/export">
          Export a portfolio or add reminders to your calendar
        </a>
      </p>
    </section>
  );
}

/** A bar that says its value in words too (never colour alone). */
function Meter({ value, max, label }: { value: number; max: number; label: string }) {
  return <meter class="meter" min={0} max={max} value={value} aria-label={label} />;
}

function titleOf(records: DraftRecord[], id: string): string {
  const doc = records.find((record) => record.id === id)?.doc;
  return doc ? summarize(doc).title : "an entry";
}
