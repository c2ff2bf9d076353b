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

import { DEVICE_KEYS } from "../local/keys";
import { Stored, TEXT } from "../local/stored";

/**
 * Asks for persistent storage (every start: a browser may grant it later)
 * and says whether to warn that it was refused: once per device, the first
 * time, not on every start. Whether it was shown is the device's alone
 * (`DEVICE_KEYS`): never synced, and kept when the user signs out.
 * `storage` is localStorage unless given.
 */
export async function storageWarningDue(storage?: Storage, request: () => Promise<Persistence> = requestPersistentStorage): Promise<boolean> {
  const result = await request();
  const warned = new Stored(DEVICE_KEYS.storageWarningShown, TEXT, "", storage);
  const dismissed = new Stored(DEVICE_KEYS.storageWarningDismissed, TEXT, "", storage);
  if (result !== "refused" || warned.read() || dismissed.read()) return false;
  warned.write("1");
  return true;
}

/** iOS and iPadOS browsers, not yet running as an installed app. */
export function isIosBrowserTab(): boolean {
  const ios = /iPhone|iPad|iPod/.test(navigator.userAgent) || (navigator.userAgent.includes("Macintosh") && navigator.maxTouchPoints > 1);
  const standalone = matchMedia("(display-mode: standalone)").matches || (navigator as { standalone?: boolean }).standalone === true;
  return ios && !standalone;
}
