// Where each kind of shared document opens, which are listed, and what an
// invitation to each says before it is accepted.

import type { SyncClient } from "../sync/client";
import type { SharedRecord } from "../sync/conversations";
import { CONVERSATION_TYPE, ENTRY_TYPE, GROUP_TYPE, SUPERVISION_TYPE } from "../sync/schema";

/** The app's address of a shared document of kind `kind`; Shared with me for a kind this version cannot show. */
export function sharedRoute(kind: string | null, id: string): string {
  switch (kind) {
    case CONVERSATION_TYPE:
      return `#/conversations/${id}`;
    case SUPERVISION_TYPE:
      return `#/supervision/${id}`;
    case GROUP_TYPE:
      return `#/groups/${id}`;
    default:
      return "#/shared";
  }
}

/** What Shared with me lists: not the entries read in a supervisor view. */
export function listedShares(client: SyncClient): SharedRecord[] {
  const inViews = new Set(client.supervision.list().flatMap((record) => Object.keys(record.doc?.entries ?? {})));
  return client.conversations.shared().filter((item) => item.kind !== ENTRY_TYPE && !inViews.has(item.id));
}

export type InviteKind = "conversation" | "supervision" | "group";

/** What an invitation link says to whoever opens it, by kind. The kind rides
 * on the link the app shows (`#/invite/{token}/supervision`), after the
 * server's own `#/invite/{token}`, which reads as a conversation. */
export const INVITATIONS: Record<InviteKind, { what: string; heading: string; intro: string; join: string }> = {
  conversation: {
    what: "a peer conversation",
    heading: "Join a peer conversation",
    intro: "You have been invited to reflect with a peer on a piece of their CPD. You will see what they chose to share and write in the discussion together. It can count as your CPD too.",
    join: "Join the conversation",
  },
  supervision: {
    what: "a supervisor view",
    heading: "Join as a supervisor",
    intro: "You have been invited to read a colleague's CPD as their supervisor: you see it as they write it, and leave comments beside it. You cannot change it.",
    join: "Join as their supervisor",
  },
  group: {
    what: "a peer learning group",
    heading: "Join a peer learning group",
    intro: "You have been invited to a peer learning group: its members meet in sessions and each adds what was discussed. You can link a session to an entry of your own as its peer discussion.",
    join: "Join the group",
  },
};

/** The invitation link to show for a kind of share. */
export function invitationLink(url: string, kind: InviteKind): string {
  return kind === "conversation" ? url : `${url}/${kind}`;
}

/** An invitation's token and kind from the app's address ("/invite/…"), or null. */
export function invitationRoute(route: string): { token: string; kind: InviteKind } | null {
  const match = /^\/invite\/([^/]+)(?:\/([a-z]+))?$/.exec(route);
  if (!match) return null;
  const kind = (match[2] ?? "conversation") as InviteKind;
  return { token: match[1], kind: kind in INVITATIONS ? kind : "conversation" };
}
