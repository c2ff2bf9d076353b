import { useState } from "preact/hooks";
import type { SyncClient } from "../sync/client";
import { asSharedDocId } from "../sync/conversations";
import { ApiError } from "../account/api";
import { acceptInvitation, invitationMessage } from "./api";
import { roleProblem } from "./rules";
import { RoleField } from "./RoleField";

/** Opening an invitation link (#/invite/{token}), signed in: the peer says
 * how the owner may know them and which role they write as, and joins. */
export function InviteScreen({ client, token }: { client: SyncClient | null; token: string }) {
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
      if (!(await client.conversations.join(id, role.trim()))) {
        setError("You have joined, but the conversation has not arrived yet. It will appear under Shared with me when it does.");
        return;
      }
      location.hash = `#/conversations/${id}`;
    } catch (err) {
      setError(err instanceof ApiError ? invitationMessage(err.code, err.message) : "Something went wrong. Please try again.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="invite-screen" aria-labelledby="invite-screen-heading">
      <h1 id="invite-screen-heading" class="screen-title">
        Join a peer conversation
      </h1>
      <p>You have been invited to reflect with a peer on a piece of their CPD. You will see what they chose to share and write in the discussion together. It can count as your CPD too.</p>
      <form onSubmit={(event) => void accept(event)} noValidate>
        <label for="display-name" class="field-label">
          Your name for this share
        </label>
        <input id="display-name" class="input" autocomplete="name" value={displayName} aria-describedby="display-name-hint" onInput={(event) => setDisplayName(event.currentTarget.value)} />
        <p id="display-name-hint" class="hint">
          Only the person who invited you sees it, in their list of who the conversation is shared with. Your email is never shown.
        </p>
        {tried && !displayName.trim() && <p class="field-warning">Give a name the person who invited you will recognise.</p>}
        <RoleField id="join-role" value={role} onInput={setRole} problem={tried ? problem : null} label="Your professional role (shown with what you write, never your name)" />
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="button button-primary" disabled={busy || !client}>
          {busy ? "Please wait…" : "Join the conversation"}
        </button>
      </form>
    </section>
  );
}
