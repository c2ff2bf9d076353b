// A draft's ID as the rest of the app knows it. Only sync/ imports
// automerge-repo, so screens, services and tests take the type from here,
// and a string kept on this device (a route, a stored capture or recording)
// becomes an ID in one place.

import type { DocumentId } from "@automerge/automerge-repo/slim";

/** The ID of one entry document (a draft), as the root document lists it. */
export type DraftId = DocumentId;

/** A draft's ID from a string this app stored or put in an address itself;
 * an unknown one is simply not found by the DraftStore. */
export function asDraftId(value: string): DraftId {
  return value as DraftId;
}
