// A simulated device: the official automerge-repo 2.5 Repo with the official
// WebSocket client adapter, signed in to the server as one device.
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const RETRY_INTERVAL_MS = 200;
let devices = 0;

export class Device {
  /**
   * @param server a FieldbookServer
   * @param session the body of a successful login: `{ token, userId, deviceId, rootDocUrl }`
   */
  constructor(server, session, name = "device") {
    this.name = name;
    this.session = session;
    this.adapter = new WebSocketClientAdapter(server.syncUrl(session.token), RETRY_INTERVAL_MS);
    // Every message the server sends this device, decoded (for protocol-level assertions).
    this.received = [];
    this.adapter.on("message", message => this.received.push(message));
    this.repo = new Repo({
      network: [this.adapter],
      peerId: `${name}-${process.pid}-${++devices}`,
      sharePolicy: async () => true,
    });
    this.closed = false;
  }

  /** The user's root document (`{ entries: { [documentId]: { addedAt } } }`). */
  root() {
    return this.repo.find(this.session.rootDocUrl);
  }

  /** True while the device has a peer (the server) it is talking to. */
  get online() {
    return this.repo.peers.length > 0;
  }

  /** Drops the WebSocket connection; edits stay local until `goOnline`. */
  goOffline() {
    if (this.adapter.socket) this.adapter.disconnect();
  }

  /** Opens a new WebSocket connection and re-joins with the same peer id and metadata. */
  goOnline() {
    this.adapter.connect(this.adapter.peerId, this.adapter.peerMetadata);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    this.goOffline();
    await this.repo.flush();
  }
}

/** The current contents of a handle as plain JSON (Automerge proxies → objects/strings). */
export function plain(handle) {
  return JSON.parse(JSON.stringify(handle.doc()));
}

/**
 * Polls `check` every 50 ms until it returns something truthy (which is
 * returned), or fails after `timeoutMs` with a message naming `what` and the
 * last value or error seen. Also accepts `eventually(what, check, timeoutMs)`.
 */
export async function eventually(check, timeoutMs = 10_000, what = undefined) {
  if (typeof check === "string") [what, check, timeoutMs] = [check, timeoutMs, what ?? 10_000];
  what ??= check.toString();
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = `last result: ${JSON.stringify(value)}`;
    } catch (error) {
      last = `last error: ${error?.message ?? error}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what} (${last})`);
    }
    await new Promise(resolveWait => setTimeout(resolveWait, 50));
  }
}

/**
 * Waits until the server holds `url` with contents satisfying `check`
 * (default: any), asking each time through a brand-new Repo on the same
 * session. A fresh Repo is needed per attempt: once the server has answered
 * `doc-unavailable` (e.g. because the creating device's changes have not
 * arrived yet), automerge-repo 2.5 caches that handle as unavailable and
 * never asks again. Resolves with the document's contents as plain JSON.
 */
export async function serverHas(server, session, url, check = () => true, timeoutMs = 10_000) {
  return eventually(
    async () => {
      const probe = new Device(server, session, "probe");
      try {
        const contents = plain(await probe.repo.find(url));
        return check(contents) ? contents : null;
      } finally {
        await probe.close();
      }
    },
    timeoutMs,
    `the server to hold ${url}${check.toString() === "() => true" ? "" : ` with ${check}`}`,
  );
}
