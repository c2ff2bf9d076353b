import { useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import { asSharedDocId } from "../sync/conversations";
import { ApiError } from "../account/api";
import { acceptInvitation, invitationMessage } from "./api";
import { INVITATIONS, sharedRoute, type InviteKind } from "./routes";
import { roleProblem } from "./rules";
import { RoleField } from "./RoleField";

/** Opening an invitation link (#/invite/{token}), signed in: the peer says
 * how the owner may know them and which role they write as, and joins a
 * conversation, a supervisor view or a peer learning group. */
export function InviteScreen({ client, token, kind }: { client: SyncClient | null; token: string; kind: InviteKind }) {
  const words = INVITATIONS[kind];
  const [displayName, setDisplayName] = useState("");
  const [role, setRole] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [tried, setTried] = useState(false);
  const problem = roleProblem(role);

  const accept = async (event: Event) => {
    event.preventDefault();
    setTried(true);
    if (problem || !displayName.trim() || !client) return;
    setBusy(true);
    setError("");
    try {
      const { documentId } = await acceptInvitation(token, displayName.trim());
      const id = asSharedDocId(documentId);
      const kind = await client.conversations.join(id, role.trim());
      if (!kind) {
        setError("You have joined, but what was shared has not arrived yet. It will appear under Shared with me when it does.");
        return;
      }
      location.hash = sharedRoute(kind, id);
    } catch (err) {
      setError(err instanceof ApiError ? invitationMessage(err.code, err.message) : "Something went wrong. Please try again.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="invite-screen" aria-labelledby="invite-screen-heading">
      <h1 id="invite-screen-heading" class="screen-title">
        {words.heading}
      </h1>
      <p>{words.intro} Everything you write is shown with your professional role, never your name.</p>
      <form onSubmit={(event) => void accept(event)} noValidate>
        <label for="display-name" class="field-label">
          Your name for this share
        </label>
        <input id="display-name" class="input" autocomplete="name" value={displayName} aria-describedby="display-name-hint" onInput={(event) => setDisplayName(event.currentTarget.value)} />
        <p id="display-name-hint" class="hint">
          Only the person who invited you sees it, in their list of who it is shared with. Your email is never shown.
        </p>
        {tried && !displayName.trim() && <p class="field-warning">Give a name the person who invited you will recognise.</p>}
        <RoleField id="join-role" value={role} onInput={setRole} problem={tried ? problem : null} label="Your professional role (shown with what you write, never your name)" />
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="button button-primary" disabled={busy || !client}>
          {busy ? "Please wait…" : words.join}
        </button>
      </form>
    </section>
  );
}
