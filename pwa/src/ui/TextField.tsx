import { useLayoutEffect, useRef } from "preact/hooks";

interface Props {
  id: string;
  value: string;
  onInput: (value: string) => void;
  placeholder?: string;
  rows?: number;
  autoFocus?: boolean;
  describedBy?: string;
  class?: string;
}

/** A textarea bound to a synced text. When the text changes under the user
 * (an edit arriving from another device) the caret stays where it was
 * instead of jumping to the end. */
export function TextField(props: Props) {
  const ref = useRef<HTMLTextAreaElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || el.value === props.value) return;
    const focused = document.activeElement === el;
    const { selectionStart, selectionEnd } = el;
    el.value = props.value;
    if (focused) el.setSelectionRange(Math.min(selectionStart, el.value.length), Math.min(selectionEnd, el.value.length));
  }, [props.value]);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!props.autoFocus || !el) return;
    // Carry on where the text ends, as when reopening a note.
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  return (
    <textarea
      ref={ref}
      id={props.id}
      class={props.class}
      rows={props.rows ?? 4}
      placeholder={props.placeholder}
      aria-describedby={props.describedBy}
      defaultValue={props.value}
      onInput={(event) => props.onInput(event.currentTarget.value)}
    />
  );
}
