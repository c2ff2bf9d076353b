import { CONVERSATION_ROLES } from "./rules";

/** A professional role: common ones to pick, any other to type. */
export function RoleField({ id, value, onInput, problem, label }: { id: string; value: string; onInput: (value: string) => void; problem: string | null; label: string }) {
  return (
    <>
      <label for={id} class="field-label">
        {label}
      </label>
      <input id={id} class="input" list={`${id}-list`} value={value} autocomplete="organization-title" aria-describedby={problem ? `${id}-problem` : undefined} onInput={(event) => onInput(event.currentTarget.value)} />
      <datalist id={`${id}-list`}>
        {CONVERSATION_ROLES.map((role) => (
          <option key={role} value={role} />
        ))}
      </datalist>
      {problem && (
        <p id={`${id}-problem`} class="field-warning">
          {problem}
        </p>
      )}
    </>
  );
}
