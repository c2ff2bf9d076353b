import type { SyncClient } from "../sync/client";
import { CONVERSATION_TYPE, GROUP_TYPE, SUPERVISION_TYPE } from "../sync/schema";
import { useSubscription } from "../ui/hooks";
import { listedShares, sharedRoute } from "./routes";

/** What each kind this version shows is called, and what the member does in it. */
const KINDS: Record<string, { name: string; does: string }> = {
  [CONVERSATION_TYPE]: { name: "Peer conversation", does: "to write in" },
  [SUPERVISION_TYPE]: { name: "Supervisor view", does: "to read and comment" },
  [GROUP_TYPE]: { name: "Peer learning group", does: "to write in" },
};

/** Everything others share with this user, from the root document's
 * `shared` map (so every device of theirs lists the same). Entries read in a
 * supervisor view are listed in that view, not here. */
export function SharedScreen({ client }: { client: SyncClient | null }) {
  const conversations = client?.conversations ?? null;
  const shared = useSubscription(conversations ? (listener) => conversations.subscribe(listener) : null, () => (client ? listedShares(client) : null));
  return (
    <section aria-labelledby="shared-heading">
      <h1 id="shared-heading" class="screen-title">
        Shared with me
      </h1>
      {!shared ? (
        <p class="empty">Opening…</p>
      ) : shared.length === 0 ? (
        <p class="empty">Nothing is shared with you yet. When a peer invites you, open their link on this device.</p>
      ) : (
        <ul class="draft-list">
          {shared.map((item) => {
            const kind = item.kind ? KINDS[item.kind] : undefined;
            const from = `From ${item.ownerDisplayName || "a peer"} · ${kind?.does ?? (item.role === "reader" ? "to read" : "to write in")}`;
            return (
              <li key={item.id} class="draft-item">
                {kind ? (
                  <a class="draft-link" href={sharedRoute(item.kind, item.id)}>
                    <span class="draft-title">
                      {kind.name}: {item.title}
                    </span>
                    <span class="draft-meta">{from}</span>
                  </a>
                ) : (
                  <p class="draft-pending">
                    <span class="draft-title">{item.title || "A shared document"}</span>
                    <br />
                    <span class="draft-meta">
                      {from} · {item.kind === null ? "arrives when this device is online" : "this version of Fieldbook cannot show it yet"}
                    </span>
                  </p>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
