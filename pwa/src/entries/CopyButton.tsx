import { useState } from "preact/hooks";
import { characterCount, sweFieldText } from "../export/text";

/** Copies a field's text as SWE's form takes it, with its length. */
export function CopyButton({ label, text }: { label: string; text: string }) {
  const [copied, setCopied] = useState(false);
  const plain = sweFieldText(text);
  const copy = async () => {
    await navigator.clipboard.writeText(plain);
    setCopied(true);
    setTimeout(() => setCopied(false), 2500);
  };
  return (
    <p class="copy-row">
      <button type="button" class="button button-secondary" onClick={() => void copy()} disabled={!plain} aria-label={`Copy ${label} for SWE`}>
        {copied ? "Copied ✓" : "Copy for SWE"}
      </button>
      <span class="char-count">{characterCount(plain)} characters</span>
      <span class="visually-hidden" aria-live="polite">
        {copied ? `${label} copied.` : ""}
      </span>
    </p>
  );
}
