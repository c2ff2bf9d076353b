// How a kept flag is remembered in an entry's `dismissedFlags`: by its kind
// and text, so keeping it once keeps it wherever the same words appear.
// Apart from the engine, so Capture can read it before the check has loaded.
import type { Flag } from "./engine";

export function flagKey(flag: Pick<Flag, "kind" | "text">): string {
  return `${flag.kind}:${flag.text}`;
}
