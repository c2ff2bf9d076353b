import type { SyncStatus } from "../sync/status";
import { formatWhen } from "../cpd/summary";

function waitingText(waiting: number): string {
  return waiting === 1 ? "1 draft waiting" : `${waiting} drafts waiting`;
}

export function describeStatus(status: SyncStatus | null, now: number): { kind: string; text: string } {
  if (!status) return { kind: "offline", text: "Opening your notes…" };
  switch (status.kind) {
    case "offline":
      return {
        kind: "offline",
        text:
          status.waiting > 0
            ? `Offline · ${waitingText(status.waiting)}`
            : status.lastSyncedAt
              ? `Offline · synced ${formatWhen(status.lastSyncedAt, now)}`
              : "Offline",
      };
    case "syncing":
      return { kind: "syncing", text: status.waiting > 0 ? `Syncing · ${waitingText(status.waiting)}` : "Syncing…" };
    case "synced":
      return { kind: "synced", text: `Up to date · ${formatWhen(status.lastSyncedAt, now)}` };
  }
}

/** The sync state at a glance: a shape and a word, never colour alone. */
export function SyncBadge({ status, now }: { status: SyncStatus | null; now: number }) {
  const { kind, text } = describeStatus(status, now);
  return (
    <p class={`sync-badge sync-${kind}`} role="status" data-sync={kind}>
      <span class="sync-dot" aria-hidden="true" />
      {text}
    </p>
  );
}
