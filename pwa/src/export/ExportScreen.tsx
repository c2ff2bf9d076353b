import { useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import type { DraftRecord, Profile } from "../sync/drafts";
import type { EntryDoc } from "../sync/schema";
import { summarize } from "../cpd/summary";
import { useNow, useSubscription } from "../ui/hooks";
import { currentRegistrationYear, isInYear, yearsWithEntries } from "../cpd/year";
import { exportFile, remindersFile, type ExportFile, type ExportKind } from "./files";
import { parseExport } from "./json";

const KINDS: { kind: ExportKind; label: string; why: string }[] = [
  { kind: "pdf", label: "PDF", why: "a portfolio to read, print or bring to supervision and appraisal" },
  { kind: "csv", label: "CSV", why: "a spreadsheet, one row per entry" },
  { kind: "json", label: "JSON", why: "everything, to keep or to import into Fieldbook again" },
];

type Loaded = DraftRecord & { doc: EntryDoc };

/** Files made on this device from the user's entries: nothing is sent anywhere. */
export function ExportScreen({ client }: { client: SyncClient | null }) {
  const now = new Date(useNow(60_000));
  const drafts = client?.drafts ?? null;
  const records = useSubscription(drafts ? (listener) => drafts.subscribe(listener) : null, () => drafts?.list() ?? []);
  const loaded = records.filter((record): record is Loaded => record.doc !== null);
  const years = yearsWithEntries(
    loaded.map((record) => record.doc.activityDate),
    now,
  );
  const [scope, setScope] = useState(() => currentRegistrationYear(now).label);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [kind, setKind] = useState<ExportKind>("pdf");
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  const year = years.find((y) => y.label === scope) ?? null;
  const selected = scope === "chosen" ? loaded.filter((record) => chosen.has(record.id)) : year ? loaded.filter((record) => isInYear(record.doc.activityDate, year)) : loaded;

  const download = async () => {
    setBusy(true);
    setMessage("");
    try {
      const owner = drafts?.profile();
      const file = await exportFile({ kind, entries: selected.map((record) => ({ id: record.id, entry: record.doc })), year, owner, now: new Date() });
      save(file);
      setMessage(`${file.fileName} is ready in your downloads.`);
    } catch (error) {
      setMessage(`The file could not be made: ${(error as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  const toggle = (id: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    setChosen(next);
  };

  return (
    <section class="export" aria-labelledby="export-heading">
      <h1 id="export-heading" class="screen-title">
        Export
      </h1>
      <p>Files are made on this device and saved to your downloads. Nothing is sent anywhere.</p>

      <fieldset class="tags">
        <legend>Which entries</legend>
        {years.map((y) => (
          <div key={y.label} class="check">
            <input id={`scope-${y.label}`} type="radio" name="scope" checked={scope === y.label} onChange={() => setScope(y.label)} />
            <label for={`scope-${y.label}`}>Registration year {y.label}</label>
          </div>
        ))}
        <div class="check">
          <input id="scope-all" type="radio" name="scope" checked={scope === "all"} onChange={() => setScope("all")} />
          <label for="scope-all">All entries</label>
        </div>
        <div class="check">
          <input id="scope-chosen" type="radio" name="scope" checked={scope === "chosen"} onChange={() => setScope("chosen")} />
          <label for="scope-chosen">Entries I choose</label>
        </div>
      </fieldset>
      {scope === "chosen" && (
        <fieldset class="tags">
          <legend>Choose entries</legend>
          {loaded.length === 0 && <p class="empty">No entries on this device yet.</p>}
          {loaded.map((record) => (
            <div key={record.id} class="check">
              <input id={`choose-${record.id}`} type="checkbox" checked={chosen.has(record.id)} onChange={(event) => toggle(record.id, event.currentTarget.checked)} />
              <label for={`choose-${record.id}`}>{summarize(record.doc).title}</label>
            </div>
          ))}
        </fieldset>
      )}

      <fieldset class="tags">
        <legend>Format</legend>
        {KINDS.map((option) => (
          <div key={option.kind} class="check">
            <input id={`kind-${option.kind}`} type="radio" name="kind" checked={kind === option.kind} onChange={() => setKind(option.kind)} />
            <label for={`kind-${option.kind}`}>
              {option.label}: {option.why}
            </label>
          </div>
        ))}
      </fieldset>
      {kind === "pdf" && <CoverNote profile={drafts?.profile() ?? null} />}
      <p>
        <button type="button" class="button button-primary" disabled={busy || selected.length === 0} onClick={() => void download()}>
          Download {selected.length === 1 ? "1 entry" : `${selected.length} entries`}
        </button>
      </p>
      <p role="status">{message}</p>

      <h2>Reminders in your calendar</h2>
      <p>
        A calendar file with a monthly nudge, the day the renewal window opens, and a week and a day before the 30 November deadline. Open it to add the reminders to your
        own calendar; Fieldbook never contacts a calendar service.
      </p>
      <p>
        <button type="button" class="button button-secondary" onClick={() => save(remindersFile(currentRegistrationYear(now), new Date(), location.origin))}>
          Download reminders (.ics)
        </button>
      </p>

      <h2>Import</h2>
      <ImportForm client={client} existing={new Set(records.map((record) => record.id))} />
    </section>
  );
}

/** Whose the portfolio says it is, and where to change that. */
function CoverNote({ profile }: { profile: Profile | null }) {
  if (!profile) return null;
  const parts = [profile.name, profile.registrationNumber && `SWE registration number ${profile.registrationNumber}`].filter(Boolean);
  return (
    <p class="hint">
      {parts.length ? `The cover shows ${parts.join(", ")}.` : "The cover shows no name or registration number."} Change them under Account, at the end of Entries.
    </p>
  );
}

/** Brings back entries from a Fieldbook JSON export; entries already here are skipped. */
function ImportForm({ client, existing }: { client: SyncClient | null; existing: Set<string> }) {
  const [message, setMessage] = useState("");
  const importFile = async (file: File | undefined) => {
    if (!file || !client) return;
    try {
      const data = parseExport(await file.text());
      const fresh = data.entries.filter((item) => !item.id || !existing.has(item.id));
      for (const item of fresh) client.drafts.importEntry(item.entry);
      const skipped = data.entries.length - fresh.length;
      setMessage(`${fresh.length === 1 ? "1 entry" : `${fresh.length} entries`} imported${skipped ? `; ${skipped} already here` : ""}.`);
    } catch (error) {
      setMessage(`Nothing was imported. ${(error as Error).message}`);
    }
  };
  return (
    <>
      <label for="import-file" class="field-label">
        A Fieldbook JSON export
      </label>
      <input id="import-file" class="input" type="file" accept="application/json,.json" onChange={(event) => void importFile(event.currentTarget.files?.[0])} />
      <p role="status">{message}</p>
    </>
  );
}

/** Hands a file to the browser's downloads. */
function save(file: ExportFile): void {
  const url = URL.createObjectURL(new Blob([file.data as BlobPart], { type: file.mimeType }));
  const link = document.createElement("a");
  link.href = url;
  link.download = file.fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
