// The page's side of the service worker: registers it and owns the update
// flow. A new version is announced, never forced: it takes over only when the
// user taps "Reload", after every change has been written to the device.

type Listener = (ready: boolean) => void;

let waiting: ServiceWorker | null = null;
const listeners = new Set<Listener>();

export function onUpdateReady(listener: Listener): () => void {
  listeners.add(listener);
  listener(waiting !== null);
  return () => listeners.delete(listener);
}

function announce(worker: ServiceWorker): void {
  waiting = worker;
  for (const listener of listeners) listener(true);
}

export async function registerServiceWorker(): Promise<void> {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  // Only an update has a controller already; the first install just activates.
  const hasController = () => navigator.serviceWorker.controller !== null;
  if (registration.waiting && hasController()) announce(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const installing = registration.installing;
    installing?.addEventListener("statechange", () => {
      if (installing.state === "installed" && hasController()) announce(installing);
    });
  });
  // Look for a new version whenever the app comes back to the foreground.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void registration.update().catch(() => undefined);
  });
}

/** Switches to the new version: saves everything first, then reloads. */
export async function applyUpdate(saveEverything: () => Promise<void>): Promise<void> {
  if (!waiting) return;
  await saveEverything();
  navigator.serviceWorker.addEventListener("controllerchange", () => location.reload(), { once: true });
  waiting.postMessage({ type: "SKIP_WAITING" });
}
