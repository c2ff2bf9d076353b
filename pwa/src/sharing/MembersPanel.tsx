import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../account/api";
import { listMembers, removeMember, type Member } from "./api";

interface Props {
  id: string;
  me: string;
  ownerId: string;
  owner: boolean;
  /** Each participant's role, by user id, as written in the document. */
  roles: Record<string, string>;
  /** What is shared, in words: "conversation", "group", … */
  what: string;
  /** What else goes with a member who is removed or leaves (their role in
   * the document, the entries they read), after the server has let them go. */
  onGone?: (userId: string) => Promise<void> | void;
}

/** Who a shared document is shared with ("Shared with 2 people"): the owner
 * lists and removes them, a member leaves. Offline, the roles written in the
 * document say who joined. Names come from the server only, never from the
 * document, so they never reach an export. */
export function MembersPanel({ id, me, ownerId, owner, roles, what, onGone }: Props) {
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState("");
  const load = () =>
    listMembers(id)
      .then((list) => setMembers(list.filter((member) => member.role !== "owner" && member.userId !== ownerId)))
      .catch(() => setMembers(null));
  useEffect(() => {
    void load();
  }, [id, Object.keys(roles).length]);
  const count = members?.length ?? Object.keys(roles).filter((userId) => userId !== ownerId).length;
  const remove = async (member: Member) => {
    setError("");
    try {
      await removeMember(id, member.userId);
      await onGone?.(member.userId);
      await load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Could not remove them. Try again.");
    }
  };
  const leave = async () => {
    setError("");
    try {
      await onGone?.(me);
      await removeMember(id, me);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Could not leave. Try again.");
    }
  };
  return (
    <section class="members" aria-labelledby="members-heading">
      <h2 id="members-heading" class="members-summary">
        {count === 0 ? "Not shared with anyone yet" : `Shared with ${count} ${count === 1 ? "person" : "people"}`}
      </h2>
      {owner && members && members.length > 0 && (
        <ul class="member-list">
          {members.map((member) => (
            <li key={member.userId} class="member">
              <span>
                {member.displayName || "A peer"}
                {roles[member.userId] ? ` · ${roles[member.userId]}` : ""}
              </span>
              <button type="button" class="button button-danger" onClick={() => void remove(member)} aria-label={`Remove ${member.displayName || "this peer"} from the ${what}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {!owner && (
        <button type="button" class="button button-link" onClick={() => void leave()}>
          Leave this {what}
        </button>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
