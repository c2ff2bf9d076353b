// Every key the app keeps in localStorage or sessionStorage, and whose it
// is. A user's keys go when that user signs out on this device; the
// device's stay, whoever signs in next. A new key is added here, so signing
// out can never miss one (walls.test.ts keeps storage out of other folders).

/** The signed-in user's keys: `forgetUser` removes them all. */
export const USER_KEYS = {
  /** Who is signed in on this device (account/api.ts): one user at a time. */
  session: (_userId: string) => "fieldbook.session",
  /** What the Capture field holds (capture/pending.ts). */
  capture: (userId: string) => `fieldbook.capture.${userId}`,
  /** Deletions waiting for their undo window and signal (entries/deletions.ts). */
  deletions: (userId: string) => `fieldbook.deletions.${userId}`,
  /** The heads the server has acknowledged, per document (sync/status.ts). */
  synced: (userId: string) => `fieldbook.synced.${userId}`,
  /** The documents shared with the user, by title, to name one whose share ends (sync/conversations.ts). */
  shares: (userId: string) => `fieldbook.shares.${userId}`,
  /** The conversation contributions this device has shown (sharing/unread.ts). */
  seen: (userId: string) => `fieldbook.seen.${userId}`,
} as const;

/** This device's own keys: kept when a user signs out. */
export const DEVICE_KEYS = {
  /** The reflective prompts chosen on the entry form (entries/SweForm.tsx). */
  reflectiveModel: "fieldbook.reflectiveModel",
  /** The warning that the browser may clear storage was shown (page/storage.ts). */
  storageWarningShown: "fieldbook.storageWarningShown",
  /** What earlier versions set when that warning was dismissed. */
  storageWarningDismissed: "fieldbook.storageWarningDismissed",
} as const;

/** Keys in sessionStorage, which ends with the tab (or installed app) anyway. */
export const TAB_KEYS = {
  /** Capture has opened in this tab (capture/CaptureScreen.tsx). */
  captureOpened: (userId: string) => `fieldbook.capture.open.${userId}`,
} as const;

/** Signing out: removes every one of `userId`'s keys from this device's
 * localStorage (by default), and nothing else. */
export function forgetUser(userId: string, storage?: Storage): void {
  const store = storage ?? localStorage;
  for (const key of Object.values(USER_KEYS)) store.removeItem(key(userId));
}
