import type { DraftId } from "../sync/ids";
import type { DraftStore, EntryTextField } from "../sync/drafts";
import type { EntryDoc } from "../sync/schema";
import { findIdentifyingDetails, type Flag } from "../anonymise";
import { flagKey } from "../anonymise/flag-key";

/** The entry's fields that go to SWE (and its title), checked for identifying details. */
const CHECKED: EntryTextField[] = ["title", "description", "learning", "impact", "peerReflection.text"];

function textOf(doc: EntryDoc, field: EntryTextField): string {
  return field === "peerReflection.text" ? (doc.peerReflection?.text ?? "") : doc[field];
}

/** Flags in one field the user has not kept. */
export function fieldFlags(doc: EntryDoc, field: EntryTextField): Flag[] {
  const kept = doc.dismissedFlags ?? [];
  return findIdentifyingDetails(textOf(doc, field)).filter((flag) => !kept.includes(flagKey(flag)));
}

/** Every flag still open in the entry. */
export function undismissedFlags(doc: EntryDoc): { field: EntryTextField; flag: Flag }[] {
  return CHECKED.flatMap((field) => fieldFlags(doc, field).map((flag) => ({ field, flag })));
}

/** Flags count characters (code points); a textarea's selection counts UTF-16 units. */
function utf16Offset(text: string, codePoints: number): number {
  return [...text].slice(0, codePoints).join("").length;
}

interface Props {
  drafts: DraftStore;
  id: DraftId;
  doc: EntryDoc;
  field: EntryTextField;
  inputId: string;
}

/** Possible identifying details in one field, each to show in place or keep. */
export function FieldFlags({ drafts, id, doc, field, inputId }: Props) {
  const flags = fieldFlags(doc, field);
  if (flags.length === 0) return null;
  const text = textOf(doc, field);
  const show = (flag: Flag) => {
    const input = document.getElementById(inputId) as HTMLTextAreaElement | null;
    if (!input) return;
    input.focus();
    input.setSelectionRange(utf16Offset(text, flag.start), utf16Offset(text, flag.end));
  };
  return (
    <ul class="flags" aria-label="Possible identifying details">
      {flags.map((flag) => (
        <li key={`${flag.start}-${flag.kind}`} class="flag">
          <span>
            <strong>“{flag.text}”</strong> {flag.why}
          </span>
          <span class="flag-actions">
            <button type="button" class="button button-secondary" onClick={() => show(flag)} aria-label={`Show “${flag.text}” in the field`}>
              Show
            </button>
            <button type="button" class="button button-secondary" onClick={() => drafts.dismissFlag(id, flagKey(flag))} aria-label={`Keep “${flag.text}”: it does not identify anyone`}>
              Keep
            </button>
          </span>
        </li>
      ))}
    </ul>
  );
}
