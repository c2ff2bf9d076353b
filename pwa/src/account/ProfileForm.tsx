// The account's settings: the name and SWE registration number printed on
// the PDF portfolio's cover. They are kept in the user's own root document,
// so they reach the user's other devices by sync and go nowhere else.

import { useEffect, useState } from "preact/hooks";
import type { DraftStore } from "../sync/drafts";
import { useSubscription } from "../ui/hooks";
import { checkRegistrationNumber } from "./registration-number";

export function ProfileForm({ drafts }: { drafts: DraftStore | null }) {
  const profile = useSubscription(drafts ? (listener) => drafts.subscribe(listener) : null, () => drafts?.profile() ?? null);
  const [name, setName] = useState("");
  const [number, setNumber] = useState("");
  // Until the user types, the fields follow what is stored (it may arrive from another device).
  const [edited, setEdited] = useState(false);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");

  useEffect(() => {
    if (!profile || edited) return;
    setName(profile.name);
    setNumber(profile.registrationNumber);
  }, [profile?.name, profile?.registrationNumber, edited]);

  const edit = (set: (value: string) => void) => (event: { currentTarget: HTMLInputElement }) => {
    set(event.currentTarget.value);
    setEdited(true);
    setStatus("");
  };

  const save = (event: Event) => {
    event.preventDefault();
    if (!drafts) return;
    const checked = checkRegistrationNumber(number);
    if (!checked.ok) {
      setError(checked.message);
      document.getElementById("profile-swe")?.focus();
      return;
    }
    setError("");
    drafts.setProfile({ name, registrationNumber: checked.value });
    setName(name.trim());
    setNumber(checked.value);
    setEdited(false);
    setStatus("Saved. Your other devices get it when they sync.");
  };

  return (
    <form class="profile" aria-labelledby="profile-heading" onSubmit={save} noValidate>
      <h3 id="profile-heading">Your details for the PDF</h3>
      <p class="hint">Printed on the cover of your CPD portfolio. Kept in your account and synced to your devices, nowhere else. Both are optional.</p>
      <label for="profile-name" class="field-label">
        Your name
      </label>
      <input id="profile-name" class="input" type="text" autocomplete="name" value={name} disabled={!drafts} onInput={edit(setName)} />
      <label for="profile-swe" class="field-label">
        SWE registration number
      </label>
      <p id="profile-swe-hint" class="hint">
        SW followed by digits, as on your Social Work England account, like SW123456.
      </p>
      <input
        id="profile-swe"
        class="input"
        type="text"
        autocomplete="off"
        autocapitalize="characters"
        spellcheck={false}
        aria-describedby={error ? "profile-swe-hint profile-swe-error" : "profile-swe-hint"}
        aria-invalid={error ? "true" : undefined}
        value={number}
        disabled={!drafts}
        onInput={edit(setNumber)}
      />
      {error && (
        <p id="profile-swe-error" class="form-error" role="alert">
          {error}
        </p>
      )}
      <p class="actions">
        <button type="submit" class="button button-primary" disabled={!drafts}>
          Save details
        </button>
      </p>
      <p role="status">{status}</p>
    </form>
  );
}
