import { useState } from "preact/hooks";
import { ApiError } from "../account/api";
import type { MemberRole } from "../sync/schema";
import { createInvitation, type Invitation } from "./api";
import { QrCode } from "./QrCode";
import { invitationLink, type InviteKind } from "./routes";

interface Props {
  id: string;
  /** The role the invitation gives on `id`. */
  role: MemberRole;
  /** Other documents of this user's the same acceptance shares, read when the link is made. */
  include?: () => { documentId: string; role: MemberRole }[];
  defaultName: string;
  heading: string;
  /** Who is invited, in words: "your peer", "your supervisor". */
  who: string;
  kind: InviteKind;
}

/** A single-use link for one person, to copy or to scan. */
export function InvitePanel({ id, role, include, defaultName, heading, who, kind }: Props) {
  const [displayName, setDisplayName] = useState(defaultName);
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const [error, setError] = useState("");
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  const invite = async () => {
    setError("");
    setBusy(true);
    setCopied(false);
    try {
      const extra = include?.();
      setInvitation(await createInvitation(id, role, displayName.trim(), extra && extra.length > 0 ? extra : undefined));
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "";
      setError(
        code === "offline"
          ? "Inviting needs a connection. Everything you write meanwhile is saved and shared when you invite."
          : err instanceof ApiError && err.status === 404
            ? "What you share has not all reached the server yet. Try again once the status says everything is synced."
            : err instanceof ApiError
              ? err.message
              : "Could not make an invitation. Try again.",
      );
    } finally {
      setBusy(false);
    }
  };
  const copy = async () => {
    if (!invitation) return;
    await navigator.clipboard.writeText(invitationLink(invitation.url, kind));
    setCopied(true);
  };
  return (
    <section class="invite" aria-labelledby="invite-heading">
      <h2 id="invite-heading">{heading}</h2>
      <p>The link lets one person join, once, within 7 days. Send it yourself, or let them scan the code. Fieldbook sends nothing to anyone.</p>
      {!invitation ? (
        <>
          <label for="owner-name" class="field-label">
            Your name as {who} will see it
          </label>
          <input id="owner-name" class="input" autocomplete="name" value={displayName} onInput={(event) => setDisplayName(event.currentTarget.value)} />
          <div class="actions">
            <button type="button" class="button button-primary" disabled={busy} onClick={() => void invite()}>
              {busy ? "Please wait…" : "Make an invitation link"}
            </button>
          </div>
        </>
      ) : (
        <>
          <label for="invite-link" class="field-label">
            Invitation link
          </label>
          <input id="invite-link" class="input" readOnly value={invitationLink(invitation.url, kind)} onFocus={(event) => event.currentTarget.select()} />
          <div class="actions">
            <button type="button" class="button button-secondary" onClick={() => void copy()}>
              {copied ? "Copied ✓" : "Copy the link"}
            </button>
            <button type="button" class="button button-secondary" onClick={() => void invite()}>
              Another link
            </button>
          </div>
          <span class="visually-hidden" aria-live="polite">
            {copied ? "Invitation link copied." : ""}
          </span>
          <QrCode text={invitationLink(invitation.url, kind)} label="QR code of the invitation link" />
          <p class="hint">Expires {new Date(invitation.expiresAt).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" })}.</p>
        </>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
