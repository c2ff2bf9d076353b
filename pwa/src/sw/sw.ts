/// <reference lib="webworker" />
// Fieldbook's service worker: precaches the app shell so the app opens with
// no signal, and never touches the API or sync traffic. A new version waits
// until the page says the user chose to reload (see src/page/updates.ts), so
// an update never interrupts someone typing.

export {};

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: Array<{ url: string; revision: string | null }>;
};

const PRECACHE = self.__WB_MANIFEST;
const CACHE_PREFIX = "fieldbook-shell-";
// One cache per build: its name changes whenever any precached file does.
const CACHE = CACHE_PREFIX + hash(PRECACHE.map((entry) => `${entry.url}@${entry.revision ?? ""}`).join("\n"));
const SHELL = new URL("index.html", self.registration.scope).href;
const NETWORK_ONLY = ["/api/", "/sync", "/metrics", "/healthz", "/readyz"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // `reload` skips the HTTP cache for files that are revalidated anyway.
      cache.addAll([...new Set(PRECACHE.map((entry) => new URL(entry.url, self.registration.scope).href))].map((url) => new Request(url, { cache: "reload" }))),
    ),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE).map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "SKIP_WAITING") void self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (NETWORK_ONLY.some((prefix) => url.pathname.startsWith(prefix))) return;
  if (request.mode === "navigate") {
    event.respondWith(fromCacheFirst(SHELL, request));
    return;
  }
  event.respondWith(fromCacheFirst(request, request));
});

async function fromCacheFirst(key: RequestInfo, request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(key, { ignoreSearch: true });
  return cached ?? fetch(request);
}

/** A short, stable FNV-1a hash for the cache name. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}
