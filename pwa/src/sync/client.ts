// The one place the app meets automerge-repo: a Repo with IndexedDB storage
// on this device, a WebSocket to our server's /sync and a BroadcastChannel to
// other tabs. The UI talks to the DraftStore and reads the sync status; it
// never waits on the network.

import { Repo, initializeWasm, type AutomergeUrl, type DocHandle, type StorageId } from "@automerge/automerge-repo/slim";
import { IndexedDBStorageAdapter } from "@automerge/automerge-repo-storage-indexeddb";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { BroadcastChannelNetworkAdapter } from "@automerge/automerge-repo-network-broadcastchannel";
import wasmUrl from "@automerge/automerge/automerge.wasm?url";
import { ConversationStore } from "./conversations";
import { DraftStore } from "./drafts";
import { GroupStore } from "./groups";
import { SupervisionStore } from "./supervision";
import { authorMessage } from "./merges";
import type { RootDoc } from "./schema";
import { SyncLedger, syncStatus, type SyncStatus } from "./status";

export interface SyncSession {
  userId: string;
  rootDocUrl: string;
  deviceName: string;
  /** This device's id on the server: says which side of a merge was this device. */
  deviceId: string;
}

export interface SyncOptions {
  /** Called when the server refuses our session: the user must sign in again. */
  onSessionRejected: () => void;
  /** Asks the server whether the session is still good (false on 401). */
  checkSession: () => Promise<boolean>;
}

/** How often a dropped socket is retried. */
const RECONNECT_MS = 3000;
/** How long the socket may fail to connect while online before we ask the
 * server whether the session has ended. */
const SESSION_CHECK_MS = 4000;

let wasmReady: Promise<void> | null = null;

/** Compiles Automerge's WebAssembly once per page. */
export function loadAutomerge(): Promise<void> {
  wasmReady ??= initializeWasm(wasmUrl);
  return wasmReady;
}

/** The name of this user's database on this device. */
export function databaseName(userId: string): string {
  return `fieldbook-${userId}`;
}

export class SyncClient {
  readonly drafts: DraftStore;
  readonly conversations: ConversationStore;
  readonly supervision: SupervisionStore;
  readonly groups: GroupStore;
  readonly #repo: Repo;
  readonly #socket: WebSocketClientAdapter;
  readonly #ledger: SyncLedger;
  readonly #options: SyncOptions;
  readonly #listeners = new Set<() => void>();
  #serverStorageId: StorageId | undefined;
  #connected = false;
  #paused = false;
  #status: SyncStatus;
  #sessionTimer: ReturnType<typeof setInterval>;
  #disconnectedSince = Date.now();

  private constructor(repo: Repo, socket: WebSocketClientAdapter, root: DocHandle<RootDoc>, session: SyncSession, options: SyncOptions) {
    this.#repo = repo;
    this.#socket = socket;
    this.#options = options;
    this.#ledger = new SyncLedger(session.userId);
    this.drafts = new DraftStore(repo, root, session.deviceName, session.deviceId);
    this.conversations = new ConversationStore(repo, root, session.userId, authorMessage({ deviceId: session.deviceId, device: session.deviceName }));
    this.supervision = new SupervisionStore(this.conversations);
    this.groups = new GroupStore(this.conversations);
    this.#status = this.#computeStatus();

    // The repo records each peer's metadata on these events before we see
    // them. Other tabs are peers too (BroadcastChannel); only the socket's
    // peer is the server.
    const isServer = (peerId: string) => peerId === socket.remotePeerId;
    repo.networkSubsystem.on("peer", ({ peerId, peerMetadata }) => {
      if (!isServer(peerId)) return;
      this.#connected = true;
      this.#serverStorageId = peerMetadata.storageId ?? this.#serverStorageId;
      this.#update();
    });
    repo.networkSubsystem.on("peer-disconnected", ({ peerId }) => {
      // Every failed reconnect reports the server gone again; the outage
      // started at the first.
      if (!isServer(peerId) || !this.#connected) return;
      this.#connected = false;
      this.#disconnectedSince = Date.now();
      this.#update();
    });
    // The server may have answered while the root document was loading.
    if (socket.remotePeerId && repo.peers.includes(socket.remotePeerId)) {
      this.#connected = true;
      this.#serverStorageId = repo.getStorageIdOfPeer(socket.remotePeerId);
    }
    this.drafts.subscribe(() => this.#update());
    this.conversations.subscribe(() => this.#update());
    addEventListener("online", this.#onOnline);
    addEventListener("offline", this.#onOffline);
    this.#sessionTimer = setInterval(() => void this.#checkSession(), SESSION_CHECK_MS);
    if (!navigator.onLine) this.#onOffline();
    // The server may have acknowledged the root while it was loading.
    this.#update();
  }

  /** Opens this user's drafts. Resolves as soon as the root document is on
   * this device: at once after the first sign-in, from the server before. */
  static async open(session: SyncSession, options: SyncOptions): Promise<SyncClient> {
    await loadAutomerge();
    const socketUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/sync`;
    const socket = new WebSocketClientAdapter(socketUrl, RECONNECT_MS);
    const repo = new Repo({
      storage: new IndexedDBStorageAdapter(databaseName(session.userId)),
      network: [socket, new BroadcastChannelNetworkAdapter({ channelName: databaseName(session.userId) })],
    });
    const root = await repo.find<RootDoc>(session.rootDocUrl as AutomergeUrl);
    return new SyncClient(repo, socket, root, session, options);
  }

  get status(): SyncStatus {
    return this.#status;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops syncing (the session ended); local changes keep being saved. */
  pause(): void {
    this.#paused = true;
    this.#disconnect();
  }

  /** Syncs again, e.g. after the user signed in again. */
  resume(): void {
    this.#paused = false;
    if (navigator.onLine) this.#connect();
  }

  async close(): Promise<void> {
    clearInterval(this.#sessionTimer);
    removeEventListener("online", this.#onOnline);
    removeEventListener("offline", this.#onOffline);
    await this.#repo.flush();
    await this.#repo.shutdown();
  }

  #onOnline = () => {
    if (!this.#paused) this.#connect();
    this.#update();
  };

  #onOffline = () => {
    this.#disconnect();
    this.#update();
  };

  #connect(): void {
    const socket = this.#socket;
    if (socket.socket || !socket.peerId) return;
    this.#disconnectedSince = Date.now();
    socket.connect(socket.peerId, socket.peerMetadata);
  }

  #disconnect(): void {
    if (this.#socket.socket) this.#socket.disconnect();
    this.#connected = false;
  }

  async #checkSession(): Promise<void> {
    if (this.#paused || this.#connected || !navigator.onLine) return;
    if (Date.now() - this.#disconnectedSince < SESSION_CHECK_MS) return;
    if (!(await this.#options.checkSession().catch(() => true))) {
      this.pause();
      this.#options.onSessionRejected();
    }
  }

  #update(): void {
    const acknowledged = this.#recordAcknowledgements();
    const waiting = this.#waiting();
    const connected = this.#connected && !this.#paused;
    if (connected && waiting === 0 && (acknowledged || this.#status.kind !== "synced")) {
      this.#ledger.markSynced(Date.now());
    }
    this.#status = this.#computeStatus();
    for (const listener of this.#listeners) listener();
  }

  /** Stores the heads the server last told us it has; true if any moved. */
  #recordAcknowledgements(): boolean {
    const server = this.#serverStorageId;
    if (!server) return false;
    let moved = false;
    for (const handle of this.#handles()) {
      const heads = handle.getSyncInfo(server)?.lastHeads;
      if (heads && this.#ledger.acknowledge(handle.documentId, heads)) moved = true;
    }
    return moved;
  }

  /** Drafts with changes the server has not acknowledged. A change to the
   * list alone (the root document) counts as one. */
  #waiting(): number {
    const unacknowledged = this.#handles()
      .filter((handle) => handle.isReady() && !this.#ledger.isAcknowledged(handle.documentId, handle.heads()));
    const drafts = unacknowledged.filter((handle) => handle.documentId !== this.drafts.rootId).length;
    return drafts > 0 ? drafts : unacknowledged.length;
  }

  /** The root, the drafts and the documents shared with others. */
  #handles(): DocHandle<unknown>[] {
    return [...this.drafts.handles(), ...this.conversations.handles()];
  }

  #computeStatus(): SyncStatus {
    return syncStatus({
      online: navigator.onLine,
      connected: this.#connected && !this.#paused,
      waiting: this.#waiting(),
      lastSyncedAt: this.#ledger.lastSyncedAt,
    });
  }
}
