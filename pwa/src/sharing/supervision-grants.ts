// Keeps each supervisor view's entries in step with the owner's entries:
// an entry dated later in a shared year (or one whose identifying details
// have since been edited or kept) is granted to every supervisor of that
// view; one that leaves the year, is deleted or gains an open flag is
// withdrawn until it passes again. The server only lets the owner grant a
// user who is already a member of the view (POST /api/documents/{id}/members
// with `via`), so nobody new is let in. It runs while the owner's app is
// open and online; what fails waits for the next run.

import type { SyncClient } from "../sync/client";
import type { DraftRecord } from "../sync/drafts";
import type { SharedDocId } from "../sync/conversations";
import type { SupervisionDoc, SupervisionScope } from "../sync/schema";
import { isInYear, registrationYearFromLabel } from "../cpd/year";
import { ApiError } from "../account/api";
import { grantMember, listMembers, removeMember } from "./api";
import { supervisionBlocked } from "./rules";

export interface GrantPlan {
  /** Entries to share that are not shared yet. */
  add: string[];
  /** Shared entries to withdraw. */
  drop: string[];
  /** Entries in scope held back by open identifying details. */
  held: string[];
}

/** Which of the owner's entries a view should share, against those it does. */
export function planGrants(scope: SupervisionScope, records: readonly DraftRecord[], shared: readonly string[]): GrantPlan {
  const year = scope.kind === "year" ? registrationYearFromLabel(scope.year) : null;
  const inScope = records.filter((record) => (scope.kind === "entry" ? record.id === scope.entryId : !!year && !!record.doc && isInYear(record.doc.activityDate, year)));
  const held = inScope.filter((record) => record.doc && supervisionBlocked(record.doc)).map((record) => record.id as string);
  const wanted = new Set(inScope.filter((record) => record.doc && !supervisionBlocked(record.doc)).map((record) => record.id as string));
  // An entry listed but not on this device yet is left as it is.
  const waiting = new Set(records.filter((record) => !record.doc).map((record) => record.id as string));
  return {
    add: [...wanted].filter((id) => !shared.includes(id)),
    drop: shared.filter((id) => !wanted.has(id) && !waiting.has(id)),
    held,
  };
}

/** Runs the plans against the server; one run at a time. */
export class SupervisionGrants {
  readonly #client: SyncClient;
  /** "member/entry" pairs granted since the app opened: granting is idempotent,
   * this only saves asking again. */
  readonly #granted = new Set<string>();
  #running: Promise<void> | null = null;
  #again = false;
  /** An entry was not on the server yet: try again once more has synced. */
  #waiting = false;

  constructor(client: SyncClient) {
    this.#client = client;
  }

  /** Runs now and whenever the entries or the views change; returns a stop. */
  start(): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Typing in an entry changes it many times a second: run once it settles.
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void this.run(), 1500);
    };
    const stops = [this.#client.drafts.subscribe(soon), this.#client.supervision.subscribe(soon), this.#client.subscribe(() => this.#waiting && soon())];
    addEventListener("online", soon);
    soon();
    return () => {
      clearTimeout(timer);
      removeEventListener("online", soon);
      stops.forEach((stop) => stop());
    };
  }

  run(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#runAll().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        void this.run();
      }
    });
    return this.#running;
  }

  async #runAll(): Promise<void> {
    if (!navigator.onLine) return;
    this.#waiting = false;
    for (const record of this.#client.supervision.list()) {
      if (record.access !== "owner" || !record.doc) continue;
      try {
        await this.#keep(record.id, record.doc);
      } catch {
        // Offline or refused: the next run tries again.
      }
    }
  }

  async #keep(id: SharedDocId, doc: SupervisionDoc): Promise<void> {
    const shared = Object.keys(doc.entries);
    const plan = planGrants(doc.scope, this.#client.drafts.list(), shared);
    const members = (await listMembers(id)).filter((member) => member.role !== "owner" && member.userId !== doc.ownerId);
    const added: string[] = [];
    for (const entryId of [...shared.filter((entryId) => !plan.drop.includes(entryId)), ...plan.add]) {
      let ok = true;
      for (const member of members) {
        const key = `${member.userId}/${entryId}`;
        if (this.#granted.has(key)) continue;
        try {
          await grantMember(entryId, member.userId, "reader", id);
          this.#granted.add(key);
        } catch (err) {
          // 404: the entry has not reached the server yet.
          if (!(err instanceof ApiError && err.status === 404)) throw err;
          ok = false;
          this.#waiting = true;
        }
      }
      if (ok && plan.add.includes(entryId)) added.push(entryId);
    }
    for (const entryId of plan.drop) {
      for (const member of members) {
        await removeMember(entryId, member.userId).catch((err) => {
          if (!(err instanceof ApiError && err.status === 404)) throw err;
        });
        this.#granted.delete(`${member.userId}/${entryId}`);
      }
    }
    this.#client.supervision.updateEntries(id, added, plan.drop);
  }
}
