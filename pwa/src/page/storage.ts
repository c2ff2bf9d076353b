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

/** iOS and iPadOS browsers, not yet running as an installed app. */
export function isIosBrowserTab(): boolean {
  const ios = /iPhone|iPad|iPod/.test(navigator.userAgent) || (navigator.userAgent.includes("Macintosh") && navigator.maxTouchPoints > 1);
  const standalone = matchMedia("(display-mode: standalone)").matches || (navigator as { standalone?: boolean }).standalone === true;
  return ios && !standalone;
}
