// A date input bound to a synced "YYYY-MM-DD" date. Typed key by key, a date
// input holds "0002-12-02", "0020-12-02", … until its year has four digits:
// those are not dates yet, so they stay in the field and are not saved
// (nothing half-typed reaches the draft or the other devices). A real date is
// saved at once, and clearing the field clears the date.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { isIsoDate } from "../cpd/year";

interface Props {
  id: string;
  value: string | null;
  onChange: (date: string | null) => void;
  describedBy?: string;
}

export function DateField({ id, value, onChange, describedBy }: Props) {
  const ref = useRef<HTMLInputElement>(null);
  const [unfinished, setUnfinished] = useState(false);
  // An uncontrolled input, so a re-render never puts back the saved date
  // over a year still being typed; a date changed on another device shows.
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && el.value !== (value ?? "") && document.activeElement !== el) {
      el.value = value ?? "";
      setUnfinished(false);
    }
  }, [value]);
  const onInput = (typed: string) => {
    const complete = typed === "" || isIsoDate(typed);
    setUnfinished(!complete);
    if (complete && typed !== (value ?? "")) onChange(typed || null);
  };
  const hintId = `${id}-unfinished`;
  return (
    <>
      <input
        ref={ref}
        id={id}
        class="input"
        type="date"
        lang="en-GB"
        min="1000-01-01"
        max="9999-12-31"
        defaultValue={value ?? ""}
        aria-describedby={[describedBy, unfinished ? hintId : ""].filter(Boolean).join(" ") || undefined}
        onInput={(event) => onInput(event.currentTarget.value)}
        onChange={(event) => onInput(event.currentTarget.value)}
      />
      {unfinished && (
        <p id={hintId} class="field-hint">
          Not a date yet: type the year in full (four digits). It is saved once it is a date.
        </p>
      )}
    </>
  );
}
