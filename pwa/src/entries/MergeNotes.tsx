// Marks on a field after sync when two devices changed it while apart (see
// sync/merges.ts): for text, each device's version and a way to keep the
// merged text or either version; for a single choice, both values to pick
// from. Whatever the user does here reaches every device.

import type { DraftId } from "../sync/ids";
import type { DraftStore, EntryTextField } from "../sync/drafts";
import type { ChoiceConflict, ChoiceField, EntryMerges, MergeVersion, TextMerge } from "../sync/merges";
import { sweDate } from "../export/text";

/** "Chrome on Android", or "this device (Chrome on Linux)". */
function deviceWords(version: { device: string; thisDevice: boolean }): string {
  const name = version.device || "another device";
  return version.thisDevice ? (version.device ? `this device (${version.device})` : "this device") : name;
}

/** Theirs first, then this device's. */
function ordered<T extends { thisDevice: boolean }>(sides: readonly T[]): T[] {
  return [...sides].sort((a, b) => Number(a.thisDevice) - Number(b.thisDevice));
}

function domId(field: string): string {
  return field.replace(/\W/g, "-");
}

interface TextProps {
  drafts: DraftStore;
  id: DraftId;
  merges: EntryMerges;
  field: EntryTextField;
}

/** A text field's mark, if it has one. */
export function TextMergeNote({ drafts, id, merges, field }: TextProps) {
  const merge: TextMerge | undefined = merges.texts.find((m) => m.field === field);
  if (!merge) return null;
  const versions: MergeVersion[] = ordered(merge.versions);
  const headingId = `merge-${domId(field)}`;
  return (
    <div class="merge-note" role="group" aria-labelledby={headingId}>
      <p id={headingId} class="merge-note-title">
        Changed on {deviceWords(versions[0])} and on {deviceWords(versions[1])} while apart – check it.
      </p>
      <p class="merge-note-hint">The field holds both sets of changes, merged. Each device had:</p>
      {versions.map((version) => (
        <figure key={`${version.device}-${version.thisDevice}`} class="merge-version">
          <figcaption>On {deviceWords(version)}</figcaption>
          <blockquote>{version.text === "" ? <em>(empty)</em> : version.text}</blockquote>
          <button type="button" class="button button-secondary" onClick={() => drafts.useVersion(id, field, version.text)}>
            Use this version
          </button>
        </figure>
      ))}
      <button type="button" class="button button-secondary" onClick={() => drafts.dismissMerge(id, field)}>
        Keep the merged text
      </button>
    </div>
  );
}

interface ChoiceProps {
  drafts: DraftStore;
  id: DraftId;
  merges: EntryMerges;
  field: ChoiceField;
}

function valueWords(field: ChoiceField, value: string | null): string {
  if (value === null || value === "") return "nothing chosen";
  return field === "activityDate" || field === "peerReflection.discussedOn" ? sweDate(value) || value : value;
}

/** A single choice made differently on two devices, if it was: pick one. */
export function ChoiceConflictNote({ drafts, id, merges, field }: ChoiceProps) {
  const conflict: ChoiceConflict | undefined = merges.choices.find((c) => c.field === field);
  if (!conflict) return null;
  const options = ordered(conflict.options);
  const headingId = `choice-${domId(field)}`;
  return (
    <div class="merge-note" role="group" aria-labelledby={headingId}>
      <p id={headingId} class="merge-note-title">
        Chosen differently on {options.map(deviceWords).join(" and on ")} while apart – choose one.
      </p>
      <div class="merge-choices">
        {options.map((option) => (
          <button key={option.value ?? ""} type="button" class="button button-secondary" onClick={() => drafts.choose(id, field, option.value)}>
            Keep “{valueWords(field, option.value)}” from {deviceWords(option)}
          </button>
        ))}
      </div>
    </div>
  );
}
