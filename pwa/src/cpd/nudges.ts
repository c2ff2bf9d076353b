// In-app nudges: short reminders shown at the top of the entries list and
// the year screen, worked out on the device from the user's own entries (the
// .ics file carries the same reminders into their calendar). Pure.

import type { EntryDoc } from "../sync/schema";
import { PEER_REFLECTIONS_NEEDED, PIECES_NEEDED, yearProgress } from "./rules";
import { currentRegistrationYear, daysLeft, deadlineMessage, isRenewalWindowOpen } from "./year";

export interface Nudge {
  id: "renew" | "requirement" | "record" | "monthly";
  message: string;
  /** Where the user can act on it. */
  href: string;
}

/** When the requirement not yet met starts to be worth a nudge. */
export const REQUIREMENT_NUDGE_DAYS = 90;
/** A month with nothing captured earns a gentle reminder. */
export const QUIET_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The nudges for now: renew when the window is open (until the user ticks "I
 * pressed Submit on SWE"), the year's requirement when the deadline is near,
 * entries ready but not yet recorded on SWE, and a month with nothing
 * captured. `submitted` is the renewal checklist's last tick for this year.
 */
export function nudges(entries: readonly EntryDoc[], now: Date, submitted: boolean): Nudge[] {
  const year = currentRegistrationYear(now);
  const progress = yearProgress(entries, year);
  const left = daysLeft(year, now);
  const found: Nudge[] = [];

  if (isRenewalWindowOpen(year, now) && !submitted) {
    found.push({ id: "renew", message: `SWE's renewal window is open. ${deadlineMessage(year, now)}`, href: "#/year" });
  }
  const { distinctPieces, withPeerReflection, met } = progress.readyOrRecorded;
  if (!met && left <= REQUIREMENT_NUDGE_DAYS) {
    const missing: string[] = [];
    if (distinctPieces < PIECES_NEEDED) missing.push(`${PIECES_NEEDED - distinctPieces} more piece${PIECES_NEEDED - distinctPieces === 1 ? "" : "s"} of CPD`);
    if (withPeerReflection < PEER_REFLECTIONS_NEEDED) missing.push("a peer reflection");
    found.push({ id: "requirement", message: `${left === 1 ? "1 day" : `${left} days`} left in ${year.label}: you still need ${missing.join(" and ")}.`, href: "#/year" });
  }
  if (progress.ready > 0) {
    found.push({ id: "record", message: `${progress.ready === 1 ? "1 entry is" : `${progress.ready} entries are`} ready to copy into SWE's site.`, href: "#/entries" });
  }
  const lastChange = Math.max(0, ...entries.map((entry) => entry.updatedAt));
  if (now.getTime() - lastChange >= QUIET_DAYS * DAY_MS) {
    found.push({ id: "monthly", message: "Nothing captured for a month. Learnt something on a visit, in supervision or from reading? Capture a note.", href: "#/" });
  }
  return found;
}
