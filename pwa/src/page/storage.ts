// Asks the browser to keep this site's storage (notes live only here until
// they sync). Without it a browser may clear them when space runs low, and
// Safari clears script storage of sites not used for seven days unless the
// app was added to the Home Screen.

export type Persistence = "persisted" | "refused" | "unsupported";

export async function requestPersistentStorage(): Promise<Persistence> {
  if (!navigator.storage?.persist) return "unsupported";
  if (await navigator.storage.persisted()) return "persisted";
  return (await navigator.storage.persist()) ? "persisted" : "refused";
}

/** Set once this device has shown the warning. In localStorage, so it is this
 * device's alone: never synced, and kept when the user signs out. */
const WARNED_KEY = "fieldbook.storageWarningShown";
/** What earlier versions set when the user dismissed the warning. */
const DISMISSED_KEY = "fieldbook.storageWarningDismissed";

/**
 * Asks for persistent storage (every start: a browser may grant it later)
 * and says whether to warn that it was refused: once per device, the first
 * time, not on every start.
 */
export async function storageWarningDue(local: Pick<Storage, "getItem" | "setItem">, request: () => Promise<Persistence> = requestPersistentStorage): Promise<boolean> {
  const result = await request();
  if (result !== "refused" || local.getItem(WARNED_KEY) || local.getItem(DISMISSED_KEY)) return false;
  local.setItem(WARNED_KEY, "1");
  return true;
}

/** iOS and iPadOS browsers, not yet running as an installed app. */
export function isIosBrowserTab(): boolean {
  const ios = /iPhone|iPad|iPod/.test(navigator.userAgent) || (navigator.userAgent.includes("Macintosh") && navigator.maxTouchPoints > 1);
  const standalone = matchMedia("(display-mode: standalone)").matches || (navigator as { standalone?: boolean }).standalone === true;
  return ios && !standalone;
}
