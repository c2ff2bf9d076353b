import { useState } from "preact/hooks";
import { DEVICE_KEYS } from "../local/keys";
import { Stored } from "../local/stored";
import type { DraftId } from "../sync/ids";
import type { DraftStore } from "../sync/drafts";
import type { EntryDoc } from "../sync/schema";
import { Boundary } from "../ui/Boundary";
import { DateField } from "../ui/DateField";
import { TextField } from "../ui/TextField";
import { CopyButton } from "./CopyButton";
import { FieldFlags } from "./FieldFlags";
import { ChoiceConflictNote, TextMergeNote } from "./MergeNotes";
import { StatusPanel } from "./StatusPanel";
import { TagPicker } from "./TagPicker";
import { currentRegistrationYear, isInYear, registrationYearOf, ukDateOf } from "../cpd/year";
import {
  entryWarnings,
  CPD_TYPES,
  FIELD_GUIDANCE,
  PEER_GUIDANCE,
  PEER_QUESTION,
  PEER_ROLES,
  REFLECTIVE_MODELS,
  SWE_LABELS,
  type PromptField,
  type ReflectiveModelId,
} from "../cpd/rules";

/** The prompts chosen last on this device, for every entry and user. */
const modelChoice = new Stored<ReflectiveModelId | "none">(
  DEVICE_KEYS.reflectiveModel,
  { decode: (raw) => (raw === "none" || REFLECTIVE_MODELS.some((m) => m.id === raw) ? (raw as ReflectiveModelId | "none") : undefined), encode: (value) => value },
  "what-so-what",
);

interface Props {
  drafts: DraftStore;
  id: DraftId;
  doc: EntryDoc;
}

/** SWE's CPD form: its fields in its order and words, with help to write. */
export function SweForm({ drafts, id, doc }: Props) {
  const [model, setModel] = useState(() => modelChoice.read());
  const chooseModel = (value: ReflectiveModelId | "none") => {
    modelChoice.write(value);
    setModel(value);
  };
  const prompts = (field: PromptField) =>
    model === "none" ? [] : (REFLECTIVE_MODELS.find((m) => m.id === model)?.prompts[field] ?? []);
  const peer = doc.peerReflection;
  const merges = drafts.merges(id);
  const otherRole = peer !== null && peer.peerRole !== "" && !PEER_ROLES.includes(peer.peerRole);

  const textField = (field: "description" | "learning" | "impact", rows = 5) => {
    const inputId = `swe-${field}`;
    return (
      <div class="swe-field">
        <Boundary what={`the field “${SWE_LABELS[field]}”`}>
          <label for={inputId} class="field-label">
            {SWE_LABELS[field]}
          </label>
          <Guidance text={FIELD_GUIDANCE[field]} prompts={prompts(field)} />
          <TextField id={inputId} rows={rows} value={doc[field]} onInput={(value) => drafts.setText(id, field, value)} />
        </Boundary>
        <Boundary what="the merge to check">
          <TextMergeNote drafts={drafts} id={id} merges={merges} field={field} />
        </Boundary>
        <Boundary what="the check for identifying details">
          <FieldFlags drafts={drafts} id={id} doc={doc} field={field} inputId={inputId} />
        </Boundary>
        <Boundary what="the copy button">
          <CopyButton label={SWE_LABELS[field]} text={doc[field]} />
        </Boundary>
      </div>
    );
  };

  return (
    <section class="swe-form" aria-labelledby="swe-heading">
      <h2 id="swe-heading">For Social Work England</h2>
      {doc.status === "recorded" && (
        <p class="notice" role="note">
          This entry is recorded on SWE. If you change it here, SWE needs it resubmitted: update it on SWE too.
        </p>
      )}
      <div class="model-choice">
        <label for="reflective-model" class="field-label">
          Reflective prompts
        </label>
        <select id="reflective-model" class="input select" value={model} onChange={(event) => chooseModel(event.currentTarget.value as ReflectiveModelId | "none")}>
          {REFLECTIVE_MODELS.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
          <option value="none">No prompts</option>
        </select>
      </div>

      <Boundary what="the type of CPD">
      <div class="swe-field">
        <label for="swe-type" class="field-label">
          {SWE_LABELS.activityType}
        </label>
        <select id="swe-type" class="input select" value={doc.activityType ?? ""} onChange={(event) => drafts.setFields(id, { activityType: event.currentTarget.value || null })}>
          <option value="">Choose a type</option>
          {CPD_TYPES.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
        <ChoiceConflictNote drafts={drafts} id={id} merges={merges} field="activityType" />
        <CopyButton label={SWE_LABELS.activityType} text={doc.activityType ?? ""} />
      </div>
      </Boundary>

      <div class="swe-field">
        <Boundary what="the date">
          <label for="swe-date" class="field-label">
            {SWE_LABELS.activityDate}
          </label>
          <DateField id="swe-date" value={doc.activityDate} describedBy="swe-date-notes" onChange={(date) => drafts.setFields(id, { activityDate: date })} />
          <ChoiceConflictNote drafts={drafts} id={id} merges={merges} field="activityDate" />
        </Boundary>
        <Boundary what="the notes on the date">
          <DateNotes doc={doc} />
        </Boundary>
      </div>

      {textField("description")}
      {textField("learning")}
      {textField("impact")}

      <Boundary what="the peer reflection">
      <fieldset class="peer">
        <legend>Peer reflection</legend>
        <details class="guidance">
          <summary>What counts as peer reflection?</summary>
          <p>{PEER_GUIDANCE}</p>
        </details>
        {peer === null ? (
          <button type="button" class="button button-secondary" onClick={() => drafts.setPeerReflection(id, {})}>
            Add a peer reflection
          </button>
        ) : (
          <>
            <label for="peer-role" class="field-label">
              The peer's professional role (never their name)
            </label>
            <select
              id="peer-role"
              class="input select"
              value={otherRole ? "Other" : peer.peerRole}
              onChange={(event) => drafts.setPeerReflection(id, { peerRole: event.currentTarget.value })}
            >
              <option value="">Choose a role</option>
              {PEER_ROLES.map((role) => (
                <option key={role} value={role}>
                  {role}
                </option>
              ))}
            </select>
            <ChoiceConflictNote drafts={drafts} id={id} merges={merges} field="peerReflection.peerRole" />
            {(otherRole || peer.peerRole === "Other") && (
              <>
                <label for="peer-role-other" class="field-label">
                  Their role
                </label>
                <input
                  id="peer-role-other"
                  class="input"
                  value={peer.peerRole === "Other" ? "" : peer.peerRole}
                  onInput={(event) => drafts.setPeerReflection(id, { peerRole: event.currentTarget.value || "Other" })}
                />
              </>
            )}
            <label for="peer-date" class="field-label">
              Date of the discussion
            </label>
            <DateField id="peer-date" value={peer.discussedOn} onChange={(date) => drafts.setPeerReflection(id, { discussedOn: date })} />
            <ChoiceConflictNote drafts={drafts} id={id} merges={merges} field="peerReflection.discussedOn" />
            <label for="peer-text" class="field-label">
              {PEER_QUESTION}
            </label>
            <Guidance text={FIELD_GUIDANCE.peerReflection} prompts={prompts("peerReflection")} />
            <TextField id="peer-text" rows={5} value={peer.text} onInput={(value) => drafts.setText(id, "peerReflection.text", value)} />
            <TextMergeNote drafts={drafts} id={id} merges={merges} field="peerReflection.text" />
            <FieldFlags drafts={drafts} id={id} doc={doc} field="peerReflection.text" inputId="peer-text" />
            <CopyButton label="Peer reflection" text={peer.text} />
            <button type="button" class="button button-link" onClick={() => drafts.setPeerReflection(id, null)}>
              Remove the peer reflection
            </button>
          </>
        )}
      </fieldset>
      </Boundary>

      <Boundary what="the tags">
        <TagPicker drafts={drafts} id={id} doc={doc} />
      </Boundary>
      <Boundary what="whether the entry is ready for SWE">
        <StatusPanel drafts={drafts} id={id} doc={doc} />
      </Boundary>
    </section>
  );
}


/** A field's guidance and the chosen reflective model's prompts, folded away until asked for. */
function Guidance({ text, prompts }: { text: string; prompts: readonly string[] }) {
  return (
    <details class="guidance">
      <summary>Help with this</summary>
      <p>{text}</p>
      {prompts.length > 0 && (
        <ul>
          {prompts.map((prompt) => (
            <li key={prompt}>{prompt}</li>
          ))}
        </ul>
      )}
    </details>
  );
}

/** Which registration year the date puts the entry in, when not this one, and dates worth a second look. */
function DateNotes({ doc }: { doc: EntryDoc }) {
  const now = new Date();
  const current = currentRegistrationYear(now);
  const notes = entryWarnings(doc, ukDateOf(now)).map((warning) => warning.message);
  const year = registrationYearOf(doc.activityDate);
  if (year && !isInYear(doc.activityDate, current)) {
    notes.unshift(`This date is outside this registration year (${current.label}): the entry counts for ${year.label}.`);
  }
  return (
    <div id="swe-date-notes">
      {notes.map((note) => (
        <p key={note} class="field-warning">
          {note}
        </p>
      ))}
    </div>
  );
}
