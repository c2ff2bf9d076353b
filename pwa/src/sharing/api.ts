// The server's sharing API (README, "HTTP API"): invitations, members and
// what is shared with this user. Every call needs a connection; the
// documents themselves sync like any other.

import { call } from "../account/api";
import type { MemberRole } from "../sync/schema";

export interface Invitation {
  invitationId: string;
  token: string;
  url: string;
  role: MemberRole;
  expiresAt: string;
}

export interface Member {
  userId: string;
  displayName: string;
  role: MemberRole | "owner";
  since: string;
}

/** `displayName` is the name the owner goes by to whoever accepts; left
 * empty, the server's default ("Owner"). */
export function createInvitation(documentId: string, role: MemberRole, displayName: string, include?: { documentId: string; role: MemberRole }[]): Promise<Invitation> {
  return call("POST", `/api/documents/${encodeURIComponent(documentId)}/invitations`, { role, ...(displayName.trim() ? { displayName: displayName.trim() } : {}), ...(include ? { include } : {}) });
}

export function listInvitations(documentId: string): Promise<Invitation[]> {
  return call("GET", `/api/documents/${encodeURIComponent(documentId)}/invitations`);
}

export function revokeInvitation(invitationId: string): Promise<void> {
  return call("DELETE", `/api/invitations/${encodeURIComponent(invitationId)}`);
}

export function acceptInvitation(token: string, displayName: string): Promise<{ documentId: string; role: MemberRole }> {
  return call("POST", "/api/invitations/accept", { token, displayName });
}

export function listMembers(documentId: string): Promise<Member[]> {
  return call("GET", `/api/documents/${encodeURIComponent(documentId)}/members`);
}

/** The owner gives `userId`, already a member of their document `via`, a
 * role on another of their documents; idempotent. */
export function grantMember(documentId: string, userId: string, role: MemberRole, via: string): Promise<Member> {
  return call("POST", `/api/documents/${encodeURIComponent(documentId)}/members`, { userId, role, via });
}

/** The owner removes a member; a member removes themselves (leaving). */
export function removeMember(documentId: string, userId: string): Promise<void> {
  return call("DELETE", `/api/documents/${encodeURIComponent(documentId)}/members/${encodeURIComponent(userId)}`);
}

/** Plain words for the server's invitation errors. */
export function invitationMessage(code: string, fallback: string): string {
  switch (code) {
    case "invitation_expired":
      return "This invitation has expired. Ask for a new link.";
    case "invitation_used":
      return "This invitation has already been used. Ask for a new link.";
    case "invitation_revoked":
      return "This invitation was withdrawn. Ask for a new link if you still need one.";
    case "invitation_invalid":
      return "This invitation link is not valid. Check it was copied in full.";
    case "own_invitation":
      return "This is your own invitation: send the link to your peer instead.";
    default:
      return fallback;
  }
}
