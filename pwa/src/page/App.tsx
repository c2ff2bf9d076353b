import { useEffect, useMemo, useState } from "preact/hooks";
import { asDraftId } from "../sync/ids";
import { forgetUser } from "../local/keys";
import type { SyncClient } from "../sync/client";
import type { Removed } from "../sync/drafts";
import { asSharedDocId } from "../sync/conversations";
import { INVITATIONS, invitationRoute } from "../sharing/routes";
import { deleteDocument, logout, rememberSession, sessionIsValid, storedSession, type StoredSession } from "../account/api";
import { SignInScreen } from "../account/SignInScreen";
import { CaptureScreen } from "../capture/CaptureScreen";
import { captureMemory } from "../capture/pending";
import { settleCapture } from "../capture/settle";
import { DeletionQueue, UNDO_WINDOW_MS } from "../entries/deletions";
import { Boundary } from "../ui/Boundary";
import { SyncBadge } from "../ui/SyncBadge";
import { useHashRoute, useNow, useSubscription } from "../ui/hooks";
import { lazyComponent } from "../ui/lazy";
import { applyUpdate, onUpdateReady } from "./updates";
import { isIosBrowserTab, storageWarningDue } from "./storage";

const EntriesScreen = lazyComponent(() => import("../entries/EntriesScreen").then((m) => m.EntriesScreen));
const EntryScreen = lazyComponent(() => import("../entries/EntryScreen").then((m) => m.EntryScreen));
const YearScreen = lazyComponent(() => import("../dashboard/YearScreen").then((m) => m.YearScreen));
const ExportScreen = lazyComponent(() => import("../export/ExportScreen").then((m) => m.ExportScreen));
const ConversationScreen = lazyComponent(() => import("../sharing/ConversationScreen").then((m) => m.ConversationScreen));
const InviteScreen = lazyComponent(() => import("../sharing/InviteScreen").then((m) => m.InviteScreen));
const SharedScreen = lazyComponent(() => import("../sharing/SharedScreen").then((m) => m.SharedScreen));
const GroupsScreen = lazyComponent(() => import("../sharing/GroupsScreen").then((m) => m.GroupsScreen));
const GroupScreen = lazyComponent(() => import("../sharing/GroupScreen").then((m) => m.GroupScreen));
const SupervisionScreen = lazyComponent(() => import("../sharing/SupervisionScreen").then((m) => m.SupervisionScreen));
const ProfileForm = lazyComponent(() => import("../account/ProfileForm").then((m) => m.ProfileForm));

/** Loads the other screens once the app has painted, so moving between them never waits. */
function preloadScreens(): void {
  const load = () => [EntriesScreen, EntryScreen, YearScreen, ExportScreen, ConversationScreen, SharedScreen, SupervisionScreen, GroupsScreen, GroupScreen].forEach((screen) => void screen.preload());
  if ("requestIdleCallback" in window) requestIdleCallback(load, { timeout: 2000 });
  else setTimeout(load, 500);
}

export function App() {
  const [session, setSession] = useState<StoredSession | null>(() => storedSession());
  if (!session) {
    return (
      <SignInScreen
        invited={invitedTo(location.hash)}
        onSignedIn={(signedIn) => {
          rememberSession(signedIn);
          // An invitation opened before signing in is where the user lands.
          if (!isInvitation(location.hash)) location.hash = "#/";
          setSession(signedIn);
        }}
      />
    );
  }
  return <Workspace key={session.userId} session={session} onSignedOut={() => setSession(null)} />;
}

const DELETION_CHECK_MS = 5000;

function isInvitation(hash: string): boolean {
  return hash.startsWith("#/invite/");
}

/** What an invitation in the address is to, in words, or null. */
function invitedTo(hash: string): string | null {
  const invitation = invitationRoute(hash.slice(1));
  return invitation ? INVITATIONS[invitation.kind].what : null;
}

function Workspace({ session, onSignedOut }: { session: StoredSession; onSignedOut: () => void }) {
  const [client, setClient] = useState<SyncClient | null>(null);
  const [openError, setOpenError] = useState<string | null>(null);
  const [sessionEnded, setSessionEnded] = useState(false);
  const [removed, setRemoved] = useState<Removed | null>(null);
  const [updateReady, setUpdateReady] = useState(false);
  const [storageWarning, setStorageWarning] = useState<"refused" | null>(null);
  const route = useHashRoute();
  const now = useNow(15_000);
  const deletions = useMemo(() => new DeletionQueue(session.userId), [session.userId]);
  const status = useSubscription(client ? (listener) => client.subscribe(listener) : null, () => client?.status ?? null);
  const unshared = useSubscription(client ? (listener) => client.conversations.subscribe(listener) : null, () => client?.conversations.notices() ?? []);

  useEffect(() => {
    let opened: SyncClient | null = null;
    let cancelled = false;
    // Automerge loads in its own chunk, after the first paint: the capture
    // field takes input before it arrives (see capture/pending.ts).
    import("../sync/client")
      .then(({ SyncClient }) =>
        SyncClient.open(
          { userId: session.userId, rootDocUrl: session.rootDocUrl, deviceName: session.deviceName, deviceId: session.deviceId },
          { onSessionRejected: () => setSessionEnded(true), checkSession: sessionIsValid },
        ),
      )
      .then((ready) => {
        if (cancelled) return void ready.close();
        opened = ready;
        // Words typed on Capture before now go into the drafts, whichever screen is open.
        void settleCapture(ready.drafts, captureMemory(session.userId));
        setClient(ready);
        preloadScreens();
      })
      .catch(() => setOpenError("Fieldbook could not open the notes stored on this device. Close other Fieldbook tabs and reload."));
    const save = () => void opened?.drafts.flush();
    addEventListener("pagehide", save);
    document.addEventListener("visibilitychange", save);
    return () => {
      cancelled = true;
      removeEventListener("pagehide", save);
      document.removeEventListener("visibilitychange", save);
      void opened?.close();
    };
  }, [session.userId]);

  // The owner's supervisor views take in entries dated later in their year.
  useEffect(() => {
    if (!client) return;
    let stop: (() => void) | null = null;
    let cancelled = false;
    void import("../sharing/supervision-grants").then(({ SupervisionGrants }) => {
      if (!cancelled) stop = new SupervisionGrants(client).start();
    });
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [client]);

  useEffect(() => onUpdateReady(setUpdateReady), []);

  useEffect(() => {
    void storageWarningDue().then((due) => setStorageWarning(due ? "refused" : null));
  }, []);

  // Deletions whose undo window has passed are carried out on the server
  // when there is signal, then this device's copy goes too.
  useEffect(() => {
    if (!client) return;
    const run = () => {
      if (!navigator.onLine || sessionEnded) return;
      void deletions.run(Date.now(), async (id) => {
        await deleteDocument(id);
        client.drafts.purge(asDraftId(id));
        // Its evidence went on the server too; any copy waiting here goes now.
        void import("../evidence/service").then(async ({ evidenceService }) => (await evidenceService(session.userId)).forgetEntry(id));
      });
    };
    run();
    const timer = setInterval(run, DELETION_CHECK_MS);
    addEventListener("online", run);
    return () => {
      clearInterval(timer);
      removeEventListener("online", run);
    };
  }, [client, sessionEnded]);

  useEffect(() => {
    if (!removed) return;
    const timer = setTimeout(() => setRemoved(null), UNDO_WINDOW_MS);
    return () => clearTimeout(timer);
  }, [removed]);

  const onDeleted = (item: Removed) => {
    deletions.schedule(item.id, Date.now());
    setRemoved(item);
    location.hash = "#/entries";
  };

  const undo = () => {
    if (!removed || !client) return;
    deletions.cancel(removed.id);
    client.drafts.restore(removed);
    setRemoved(null);
    location.hash = `#/entries/${removed.id}`;
  };

  const signOut = async () => {
    const waiting = client && client.status.kind !== "synced" ? client.status.waiting : 0;
    if (waiting > 0 && !confirm(`${waiting} ${waiting === 1 ? "draft has" : "drafts have"} changes not yet on the server. Signing out removes them from this device. Sign out anyway?`)) {
      return;
    }
    await logout().catch(() => undefined);
    await client?.close();
    const { databaseName } = await import("../sync/client");
    indexedDB.deleteDatabase(databaseName(session.userId));
    forgetUser(session.userId);
    onSignedOut();
  };

  if (sessionEnded) {
    return (
      <SignInScreen
        again={{ email: session.email, onSignOut: () => void signOut() }}
        onSignedIn={(signedIn) => {
          if (signedIn.userId !== session.userId) return;
          rememberSession({ ...signedIn, deviceName: session.deviceName });
          setSessionEnded(false);
          client?.resume();
        }}
      />
    );
  }

  // "#/drafts" was the list's address before drafts became entries; old links still work.
  const entryMatch = route.replace(/^\/drafts/, "/entries").match(/^\/entries\/([^/]+)$/);
  const conversationMatch = route.match(/^\/conversations\/([^/]+)$/);
  const supervisionMatch = route.match(/^\/supervision\/([^/]+)(?:\/([^/]+))?$/);
  const groupMatch = route.match(/^\/groups\/([^/]+)$/);
  const invitation = invitationRoute(route);
  const screen = entryMatch ? "entry" : conversationMatch ? "conversation" : supervisionMatch ? "supervision" : groupMatch ? "group" : route === "/groups" ? "groups" : invitation ? "invite" : route === "/shared" ? "shared" : route === "/entries" || route === "/drafts" ? "entries" : route === "/year" ? "year" : route === "/export" ? "export" : "capture";

  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="app-header">
        <span class="brand">Fieldbook</span>
        <Boundary what="the sync status">
          <SyncBadge status={status} now={now} />
        </Boundary>
      </header>
      {updateReady && (
        <div class="banner" role="region" aria-label="Update">
          <p>A new version of Fieldbook is ready. Your notes are saved.</p>
          <button type="button" class="button button-secondary" onClick={() => void applyUpdate(() => client?.drafts.flush() ?? Promise.resolve())}>
            Reload now
          </button>
        </div>
      )}
      {storageWarning && (
        <div class="banner banner-warning" role="region" aria-label="Storage">
          <p>
            This browser may clear notes kept on this device if it runs short of space, so sync whenever you have signal.
            {isIosBrowserTab() && " On iPhone or iPad, add Fieldbook to your Home Screen (Share, then Add to Home Screen) so your notes are kept."}
          </p>
          <button
            type="button"
            class="button button-secondary"
            onClick={() => setStorageWarning(null)}
          >
            Got it
          </button>
        </div>
      )}
      {openError && (
        <p class="banner banner-error" role="alert">
          {openError}
        </p>
      )}
      {unshared.length > 0 && (
        <div class="banner banner-warning" role="alert">
          <p>
            {unshared.map((title) => `“${title}” is no longer shared with you.`).join(" ")} Its copy has been deleted from this device.
          </p>
          <button type="button" class="button button-secondary" onClick={() => client?.conversations.dismissNotices()}>
            OK
          </button>
        </div>
      )}
      <main id="main" class="app-main" tabIndex={-1}>
        {/* Keyed by the address, so going to another screen starts afresh. */}
        <Boundary key={route} what="this screen">
          {screen === "capture" && <CaptureScreen client={client} userId={session.userId} />}
          {screen === "entries" && <EntriesScreen client={client} />}
          {screen === "entry" && <EntryScreen client={client} id={asDraftId(entryMatch![1])} onDeleted={onDeleted} />}
          {screen === "year" && <YearScreen client={client} />}
          {screen === "export" && <ExportScreen client={client} />}
          {screen === "conversation" && <ConversationScreen client={client} id={asSharedDocId(conversationMatch![1])} deviceName={session.deviceName} />}
          {screen === "supervision" && <SupervisionScreen client={client} id={asSharedDocId(supervisionMatch![1])} entryId={supervisionMatch![2] ?? null} />}
          {screen === "groups" && <GroupsScreen client={client} />}
          {screen === "group" && <GroupScreen client={client} id={asSharedDocId(groupMatch![1])} deviceName={session.deviceName} />}
          {screen === "invite" && <InviteScreen client={client} token={invitation!.token} kind={invitation!.kind} />}
          {screen === "shared" && <SharedScreen client={client} />}
        </Boundary>
        {screen === "entries" && (
          <section class="account" aria-labelledby="account-heading">
            <h2 id="account-heading">Account</h2>
            <p>Signed in as {session.email} on {session.deviceName}.</p>
            <button type="button" class="button button-secondary" onClick={() => void signOut()}>
              Sign out of this device
            </button>
            <ProfileForm drafts={client?.drafts ?? null} />
          </section>
        )}
      </main>
      {removed && (
        <div class="toast" role="status">
          <span>Entry deleted.</span>
          <button type="button" class="button button-secondary" onClick={undo}>
            Undo
          </button>
        </div>
      )}
      <nav class="app-nav" aria-label="Main">
        <a href="#/" class="nav-link" aria-current={screen === "capture" ? "page" : undefined}>
          Capture
        </a>
        <a href="#/entries" class="nav-link" aria-current={screen === "entries" || screen === "entry" || screen === "shared" || screen === "conversation" || screen === "supervision" || screen === "groups" || screen === "group" ? "page" : undefined}>
          Entries
        </a>
        <a href="#/year" class="nav-link" aria-current={screen === "year" ? "page" : undefined}>
          Year
        </a>
        <a href="#/export" class="nav-link" aria-current={screen === "export" ? "page" : undefined}>
          Export
        </a>
      </nav>
    </div>
  );
}
