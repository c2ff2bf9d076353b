import { useState } from "preact/hooks";
import { ApiError, login, register, type StoredSession } from "./api";

interface Props {
  onSignedIn: (session: StoredSession) => void;
  /** Set when the session ended: the user signs in again as the same person. */
  again?: { email: string; onSignOut: () => void };
  /** An invitation link was opened: the user signs in or signs up to join. */
  /** What an invitation opened before signing in is to ("a peer conversation"). */
  invited?: string | null;
}

/** The server's rule (accounts.rs); checked here too to answer at once. */
const MIN_PASSWORD = 10;

export function SignInScreen({ onSignedIn, again, invited }: Props) {
  const [mode, setMode] = useState<"sign-in" | "create">("sign-in");
  const [email, setEmail] = useState(again?.email ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const creating = mode === "create";

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    if (creating && password.length < MIN_PASSWORD) {
      setError(`Choose a password of at least ${MIN_PASSWORD} characters.`);
      return;
    }
    setBusy(true);
    try {
      if (creating) await register(email, password);
      onSignedIn(await login(email, password));
    } catch (err) {
      setError(err instanceof ApiError ? messageFor(err) : "Something went wrong. Please try again.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <div class="sign-in-card">
        <p class="brand">Fieldbook</p>
        <h1 class="screen-title">{again ? "Sign in again" : creating ? "Create your account" : "Sign in"}</h1>
        {again ? (
          <p>Your session has ended. Sign in again to keep syncing. Your notes are safe on this device meanwhile.</p>
        ) : invited ? (
          <p>You have been invited to {invited}. Sign in, or create an account on this Fieldbook, and you will come straight back to the invitation.</p>
        ) : (
          <p>CPD notes from the field, ready for Social Work England.</p>
        )}
        <form onSubmit={submit} noValidate>
          <label for="email" class="field-label">
            Email
          </label>
          <input
            id="email"
            class="input"
            type="email"
            autocomplete="username"
            required
            value={email}
            readOnly={!!again}
            onInput={(event) => setEmail(event.currentTarget.value)}
          />
          <label for="password" class="field-label">
            Password
          </label>
          <input
            id="password"
            class="input"
            type="password"
            autocomplete={creating ? "new-password" : "current-password"}
            required
            minLength={creating ? MIN_PASSWORD : undefined}
            aria-describedby={creating ? "password-hint" : undefined}
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
          {creating && (
            <p id="password-hint" class="hint">
              At least {MIN_PASSWORD} characters. A few unrelated words work well.
            </p>
          )}
          {error && (
            <p class="form-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" class="button button-primary button-big" disabled={busy}>
            {busy ? "Please wait…" : creating ? "Create account" : "Sign in"}
          </button>
        </form>
        {again ? (
          <button type="button" class="button button-link" onClick={again.onSignOut}>
            Use a different account
          </button>
        ) : (
          <button type="button" class="button button-link" onClick={() => setMode(creating ? "sign-in" : "create")}>
            {creating ? "I already have an account" : "Create an account"}
          </button>
        )}
      </div>
    </main>
  );
}

function messageFor(error: ApiError): string {
  switch (error.code) {
    case "email_taken":
      return "There is already an account with that email. Sign in instead.";
    case "unauthorized":
      return "That email and password do not match.";
    default:
      return error.message;
  }
}
