import { useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import { useSubscription } from "../ui/hooks";
import { RoleField } from "./RoleField";
import { roleProblem } from "./rules";
import { planGrants } from "./supervision-grants";

/** On the Year screen: share the year's portfolio with a supervisor to read,
 * entries dated in it later included, or open the view already shared. */
export function YearSharePanel({ client, label }: { client: SyncClient; label: string }) {
  const supervision = client.supervision;
  const record = useSubscription((listener) => supervision.subscribe(listener), () => supervision.forYear(label));
  const [open, setOpen] = useState(false);
  const [role, setRole] = useState("Social worker");
  const problem = roleProblem(role);
  const start = () => {
    const scope = { kind: "year" as const, year: label };
    const entries = planGrants(scope, client.drafts.list(), []).add;
    const id = supervision.start({ scope, topic: `CPD portfolio ${label}`, entries, role: role.trim() });
    location.hash = `#/supervision/${id}`;
  };
  return (
    <section class="year-share" aria-labelledby="year-share-heading">
      <h2 id="year-share-heading">Share with a supervisor</h2>
      {record ? (
        <p>
          <a class="button button-secondary" href={`#/supervision/${record.id}`}>
            Open the supervisor view of {label}
          </a>
        </p>
      ) : !open ? (
        <>
          <p>Let your supervisor read this year's entries, those you date in it later too, and comment beside each. Entries with possible identifying details still open wait until you edit or keep them.</p>
          <button type="button" class="button button-secondary" onClick={() => setOpen(true)}>
            Share {label} with a supervisor
          </button>
        </>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (!problem) start();
          }}
        >
          <RoleField id="year-share-role" value={role} onInput={setRole} problem={problem} label="Your professional role (shown with your replies, never your name)" />
          <button type="submit" class="button button-primary" disabled={!!problem}>
            Share to read, with comments
          </button>
        </form>
      )}
    </section>
  );
}
