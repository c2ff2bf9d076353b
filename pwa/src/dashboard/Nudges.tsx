import type { DraftStore } from "../sync/drafts";
import type { EntryDoc } from "../sync/schema";
import { nudges } from "../cpd/nudges";
import { currentRegistrationYear } from "../cpd/year";

/** The reminders that apply now, each a link to where the user can act. */
export function Nudges({ drafts, entries, now }: { drafts: DraftStore; entries: EntryDoc[]; now: number }) {
  const at = new Date(now);
  const submitted = !!drafts.renewal(currentRegistrationYear(at).label).submitted;
  const found = nudges(entries, at, submitted);
  if (found.length === 0) return null;
  return (
    <ul class="nudges" aria-label="Reminders">
      {found.map((nudge) => (
        <li key={nudge.id} class="nudge">
          <a href={nudge.href}>{nudge.message}</a>
        </li>
      ))}
    </ul>
  );
}
