import { useState } from "preact/hooks";
import { flagKey } from "../anonymise/flag-key";
import type { Contribution } from "../sync/schema";
import { TextField } from "../ui/TextField";
import { openFlags } from "./rules";

/** What people wrote in a shared document, oldest first, each by role; new
 * ones from others marked. Each is checked for identifying details here too,
 * on the reader's side. */
export function Discussion({ contributions, me, fresh, empty }: { contributions: readonly Contribution[]; me: string; fresh: ReadonlySet<string>; empty: string }) {
  if (contributions.length === 0) return <p class="empty">{empty}</p>;
  return (
    <ol class="contributions">
      {[...contributions]
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((contribution) => (
          <ContributionItem key={contribution.id} contribution={contribution} mine={contribution.authorId === me} fresh={fresh.has(contribution.id)} />
        ))}
    </ol>
  );
}

function ContributionItem({ contribution, mine, fresh }: { contribution: Contribution; mine: boolean; fresh: boolean }) {
  const flags = openFlags(contribution.text);
  return (
    <li class="contribution" data-new={fresh && !mine ? "true" : undefined}>
      <p class="contribution-meta">
        <strong>{mine ? `You (${contribution.role})` : contribution.role || "Peer"}</strong>
        {" · "}
        {new Date(contribution.createdAt).toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: "Europe/London" })}
        {fresh && !mine && <span class="badge-new">New</span>}
      </p>
      <p class="contribution-text">{contribution.text}</p>
      {flags.length > 0 && (
        <p class="field-warning">
          This may identify someone ({flags.map((flag) => `“${flag.text}”`).join(", ")}). {mine ? "Say so in a new contribution, or ask the owner to remove the share." : "Ask the writer to take it out."}
        </p>
      )}
    </li>
  );
}

interface ComposerProps {
  id: string;
  label: string;
  /** The writer's role, shown in the label. */
  role: string;
  hint: string;
  onAdd: (text: string) => void;
}

/** Writing in a shared document: checked for identifying details before it is shared. */
export function Composer({ id, label, role, hint, onAdd }: ComposerProps) {
  const [text, setText] = useState("");
  const [kept, setKept] = useState<string[]>([]);
  const flags = openFlags(text, kept);
  const add = () => {
    if (flags.length > 0 || !text.trim()) return;
    onAdd(text);
    setText("");
    setKept([]);
  };
  return (
    <div class="composer">
      <label for={id} class="field-label">
        {label}
        {role ? ` (as ${role})` : ""}
      </label>
      <TextField id={id} rows={3} value={text} onInput={setText} describedBy={`${id}-hint`} />
      <p id={`${id}-hint`} class="hint">
        {hint}
      </p>
      {flags.length > 0 && (
        <ul class="flags" aria-label="Possible identifying details">
          {flags.map((flag) => (
            <li key={`${flag.start}-${flag.kind}`} class="flag">
              <span>
                <strong>“{flag.text}”</strong> {flag.why}
              </span>
              <span class="flag-actions">
                <button type="button" class="button button-secondary" onClick={() => setKept([...kept, flagKey(flag)])} aria-label={`Keep “${flag.text}”: it does not identify anyone`}>
                  Keep
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      <button type="button" class="button button-primary" disabled={flags.length > 0 || !text.trim()} onClick={add}>
        {label}
      </button>
    </div>
  );
}
