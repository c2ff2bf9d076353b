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

/** Makes a textarea as tall as its text (at least its rows), so nothing
 * written is hidden behind a scroll bar. */
function fitHeight(el: HTMLTextAreaElement): void {
  el.style.height = "auto";
  const style = getComputedStyle(el);
  const borders = parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
  el.style.height = `${el.scrollHeight + borders}px`;
}

/** A textarea bound to a synced text, growing with it. When the text changes
 * under the user (an edit arriving from another device) the caret stays
 * where it was instead of jumping to the end. */
export function TextField(props: Props) {
  const ref = useRef<HTMLTextAreaElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.value !== props.value) {
      const focused = document.activeElement === el;
      const { selectionStart, selectionEnd } = el;
      el.value = props.value;
      if (focused) el.setSelectionRange(Math.min(selectionStart, el.value.length), Math.min(selectionEnd, el.value.length));
    }
    fitHeight(el);
  }, [props.value]);
  // The width decides how many lines the text takes.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    let width = el.clientWidth;
    const observer = new ResizeObserver(() => {
      if (el.clientWidth !== width) {
        width = el.clientWidth;
        fitHeight(el);
      }
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
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
      onInput={(event) => {
        fitHeight(event.currentTarget);
        props.onInput(event.currentTarget.value);
      }}
    />
  );
}
