import type { DraftId } from "../sync/ids";
import type { DraftStore } from "../sync/drafts";
import type { EntryDoc } from "../sync/schema";
import { PCF_DOMAINS, SWE_STANDARDS } from "../cpd/rules";

/** Optional tags: SWE's professional standards and BASW's PCF domains. */
export function TagPicker({ drafts, id, doc }: { drafts: DraftStore; id: DraftId; doc: EntryDoc }) {
  const group = (list: "standards" | "pcf", legend: string, options: readonly { id: string; name: string }[]) => (
    <fieldset class="tags">
      <legend>{legend}</legend>
      {options.map((option) => {
        const inputId = `tag-${list}-${option.id}`;
        return (
          <div key={option.id} class="check">
            <input
              id={inputId}
              type="checkbox"
              checked={(doc[list] ?? []).includes(option.id)}
              onChange={(event) => drafts.setTag(id, list, option.id, event.currentTarget.checked)}
            />
            <label for={inputId}>{option.name}</label>
          </div>
        );
      })}
    </fieldset>
  );
  const count = (doc.standards?.length ?? 0) + (doc.pcf?.length ?? 0);
  return (
    <details class="tag-picker">
      <summary>Tags: SWE standards and PCF{count > 0 ? ` (${count})` : ""}</summary>
      {group("standards", "SWE professional standards", SWE_STANDARDS)}
      {group("pcf", "PCF domains", PCF_DOMAINS)}
    </details>
  );
}
