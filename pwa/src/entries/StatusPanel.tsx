import { useState } from "preact/hooks";
import type { DraftId } from "../sync/ids";
import type { DraftStore } from "../sync/drafts";
import type { EntryDoc } from "../sync/schema";
import { missingForReady } from "../cpd/rules";
import { isIsoDate, ukDateOf, ukInstant } from "../cpd/year";
import { DateField } from "../ui/DateField";
import { undismissedFlags } from "./FieldFlags";

interface Props {
  drafts: DraftStore;
  id: DraftId;
  doc: EntryDoc;
}


/** Draft → ready (every SWE field filled, nothing identifying left) → recorded on SWE. */
export function StatusPanel({ drafts, id, doc }: Props) {
  const [recordedOn, setRecordedOn] = useState(() => ukDateOf(new Date()));
  const missing = missingForReady(doc);
  // Possible identifying details not yet edited or kept.
  const flagged = undismissedFlags(doc).length;

  if (doc.status === "draft") {
    const blocked = missing.length > 0 || flagged > 0;
    return (
      <section class="status-panel" aria-labelledby="status-heading">
        <h2 id="status-heading">Ready for SWE?</h2>
        {missing.length > 0 && (
          <>
            <p>Still to fill in:</p>
            <ul class="missing">
              {missing.map((item) => (
                <li key={item.field}>{item.label}</li>
              ))}
            </ul>
          </>
        )}
        {flagged > 0 && (
          <p class="form-error">
            {flagged === 1 ? "1 possible identifying detail" : `${flagged} possible identifying details`} to edit or keep first.
          </p>
        )}
        <button type="button" class="button button-primary" disabled={blocked} onClick={() => drafts.setStatus(id, "ready")}>
          Mark ready for SWE
        </button>
      </section>
    );
  }

  if (doc.status === "ready") {
    return (
      <section class="status-panel" aria-labelledby="status-heading">
        <h2 id="status-heading">Ready for SWE</h2>
        <p>Copy each field into SWE's form, then record here when it is done.</p>
        <label for="recorded-on" class="field-label">
          Date you recorded it on SWE
        </label>
        <DateField id="recorded-on" value={recordedOn} onChange={(date) => setRecordedOn(date ?? "")} />
        <div class="actions">
          <button
            type="button"
            class="button button-primary"
            disabled={!isIsoDate(recordedOn)}
            onClick={() => drafts.setStatus(id, "recorded", ukInstant(recordedOn, 12).getTime())}
          >
            I've recorded this on SWE
          </button>
          <button type="button" class="button button-secondary" onClick={() => drafts.setStatus(id, "draft")}>
            Back to draft
          </button>
        </div>
      </section>
    );
  }

  return (
    <section class="status-panel" aria-labelledby="status-heading">
      <h2 id="status-heading">Recorded on SWE</h2>
      <p>Recorded on {new Date(doc.recordedOnSweAt ?? doc.updatedAt).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" })}.</p>
      <button type="button" class="button button-secondary" onClick={() => drafts.setStatus(id, "ready")}>
        Not recorded yet
      </button>
    </section>
  );
}
