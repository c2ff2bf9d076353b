// The identifying-details check on Capture, as the note is typed: one quiet
// line ("2 details may identify someone") that opens to the details, each
// to show in the field, or to keep (it identifies no one). On the device
// only; the check's code loads after the first paint, so opening the app to
// the field never waits for it.
import { useEffect, useState } from "preact/hooks";
import { asDraftId } from "../sync/ids";
import type { Flag } from "../anonymise";
import type { DraftStore } from "../sync/drafts";
import { flagKey } from "../anonymise/flag-key";

type Check = (text: string) => Flag[];

let loaded: Check | null = null;

/** The check, once its chunk has loaded (null until then). */
function useCheck(): Check | null {
  const [check, setCheck] = useState<Check | null>(() => loaded);
  useEffect(() => {
    if (loaded) return;
    void import("../anonymise").then((module) => {
      loaded = module.findIdentifyingDetails;
      setCheck(() => loaded);
    });
  }, []);
  return check;
}

/** Flags count characters (code points); a textarea's selection counts UTF-16 units. */
function utf16Offset(text: string, codePoints: number): number {
  return [...text].slice(0, codePoints).join("").length;
}

interface Props {
  text: string;
  inputId: string;
  drafts: DraftStore | null;
  draftId: string | null;
  /** Details already kept in this draft ("kind:text"). */
  kept: readonly string[];
}

export function CaptureFlags({ text, inputId, drafts, draftId, kept }: Props) {
  const check = useCheck();
  const [open, setOpen] = useState(false);
  const flags = check ? check(text).filter((flag) => !kept.includes(flagKey(flag))) : [];
  if (flags.length === 0) return null;

  const show = (flag: Flag) => {
    const input = document.getElementById(inputId) as HTMLTextAreaElement | null;
    if (!input) return;
    input.focus();
    input.setSelectionRange(utf16Offset(text, flag.start), utf16Offset(text, flag.end));
  };
  const keep = (chosen: Flag[]) => {
    if (!drafts || !draftId) return;
    for (const flag of chosen) drafts.dismissFlag(asDraftId(draftId), flagKey(flag));
  };
  const count = flags.length === 1 ? "1 detail may identify someone" : `${flags.length} details may identify someone`;

  return (
    <section class="capture-flags" aria-label="Possible identifying details">
      <div class="capture-flags-summary">
        <p>{count}</p>
        <span class="flag-actions">
          <button type="button" class="button button-secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? "Hide" : "Show"}
          </button>
          <button type="button" class="button button-secondary" onClick={() => keep(flags)} disabled={!draftId} aria-label={`Keep all ${flags.length}: they identify no one`}>
            Keep
          </button>
        </span>
      </div>
      {open && (
        <ul class="flags">
          {flags.map((flag) => (
            <li key={`${flag.start}-${flag.kind}`} class="flag">
              <span>
                <strong>“{flag.text}”</strong> {flag.why}
              </span>
              <span class="flag-actions">
                <button type="button" class="button button-secondary" onClick={() => show(flag)} aria-label={`Show “${flag.text}” in the note`}>
                  Show
                </button>
                <button type="button" class="button button-secondary" onClick={() => keep([flag])} disabled={!draftId} aria-label={`Keep “${flag.text}”: it does not identify anyone`}>
                  Keep
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
