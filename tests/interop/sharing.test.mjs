// Sharing between two users (#15) with the official automerge-repo 2.5 Node
// client, unchanged: the owner invites, the peer accepts and both write in
// the conversation offline and converge; a reader's change is refused and
// never reaches the owner while the reader's connection carries on; a
// removed peer's client is told the document is unavailable, and its
// offline edits change nothing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cbor } from "@automerge/automerge-repo";
import { Device, eventually, plain, serverHas } from "./device.mjs";
import { FieldbookServer, uniqueEmail } from "../support/server.mjs";

let server;
const openDevices = new Set();

before(async () => {
  server = await FieldbookServer.start();
});

after(async () => {
  await Promise.all([...openDevices].map(d => d.close().catch(() => {})));
  await server?.destroy();
});

/** A new account with one signed-in device, closed when `t` ends. */
async function person(t, label) {
  const email = uniqueEmail(label);
  const account = await server.register(email);
  const session = await server.login(email, `${label} phone`);
  const device = new Device(server, session, `${label}-phone`);
  openDevices.add(device);
  t.after(async () => {
    openDevices.delete(device);
    await device.close();
  });
  return { email, account, session, device, token: session.token };
}

/** A peer conversation as the app makes it (pwa/src/sync/schema.ts). */
function newConversation(owner, topic) {
  return owner.device.repo.create({
    type: "fieldbook/conversation",
    schemaVersion: 1,
    createdAt: Date.now(),
    ownerId: owner.account.userId,
    topic,
    shown: { description: null, learning: "What I learnt about risk" },
    roles: { [owner.account.userId]: "Senior practitioner" },
    contributions: [],
  });
}

function contribute(handle, who, text) {
  handle.change(d => {
    d.contributions.push({
      id: `${who.account.userId}-${text.length}-${Date.now()}`,
      authorId: who.account.userId,
      role: who.role ?? "Senior practitioner",
      createdAt: Date.now(),
      text,
    });
  });
}

const texts = contents => contents.contributions.map(c => c.text).sort();

/** `owner` shares `handle` with `member` as `role`; the member's root lists it. */
async function share(owner, handle, role, member, displayName) {
  const made = await server.request("POST", `/api/documents/${handle.documentId}/invitations`, {
    token: owner.token,
    body: { role, displayName: "Sam (senior practitioner)" },
  });
  assert.equal(made.status, 201, made.text);
  assert.match(made.body.url, new RegExp(`/#/invite/${made.body.token}$`));
  const accepted = await server.request("POST", "/api/invitations/accept", {
    token: member.token,
    body: { token: made.body.token, displayName },
  });
  assert.equal(accepted.status, 200, accepted.text);
  assert.deepEqual(accepted.body, { documentId: handle.documentId, role });
  // The server's own change to the member's root reaches their device.
  const root = await member.device.root();
  await eventually(
    () => plain(root).shared?.[handle.documentId]?.role === role,
    10_000,
    "the member's root to list the shared document",
  );
  assert.equal(plain(root).shared[handle.documentId].ownerDisplayName, "Sam (senior practitioner)");
  return made.body;
}

async function offline(device) {
  device.goOffline();
  await eventually(() => !device.online, 5_000, `${device.name} to be offline`);
}

test("the owner invites, the peer accepts, both write offline and converge", async t => {
  const owner = await person(t, "owner");
  const peer = await person(t, "peer");
  peer.role = "Newly qualified social worker";
  const conversation = newConversation(owner, "Supervision on a risk assessment");
  contribute(conversation, owner, "Opening: the visit on Tuesday");
  await serverHas(server, owner.session, conversation.url, c => c.contributions.length === 1);

  await share(owner, conversation, "writer", peer, "Alex");
  const members = await server.request("GET", `/api/documents/${conversation.documentId}/members`, { token: owner.token });
  assert.equal(members.status, 200);
  assert.deepEqual(
    members.body.map(m => [m.userId, m.displayName, m.role]),
    [[peer.account.userId, "Alex", "writer"]],
  );
  assert.ok(!members.text.includes(peer.email), "never the member's email");

  const peerCopy = await peer.device.repo.find(conversation.url);
  assert.equal(plain(peerCopy).topic, "Supervision on a risk assessment");

  // Both offline; each writes their side.
  await offline(owner.device);
  await offline(peer.device);
  contribute(conversation, owner, "Owner, offline: what I would do again");
  contribute(peerCopy, peer, "Peer, offline: what I noticed");
  peerCopy.change(d => {
    d.roles[peer.account.userId] = peer.role;
  });
  assert.equal(plain(conversation).contributions.length, 2);

  owner.device.goOnline();
  peer.device.goOnline();
  const wanted = ["Opening: the visit on Tuesday", "Owner, offline: what I would do again", "Peer, offline: what I noticed"].sort();
  await eventually(() => JSON.stringify(texts(plain(conversation))) === JSON.stringify(wanted), 15_000, "the owner to see both sides");
  await eventually(() => JSON.stringify(texts(plain(peerCopy))) === JSON.stringify(wanted), 15_000, "the peer to see both sides");
  assert.deepEqual(plain(conversation), plain(peerCopy), "both hold the same conversation");
  assert.equal(plain(conversation).roles[peer.account.userId], peer.role);
  // The server holds it too (a third, fresh client of the owner's).
  await serverHas(server, owner.session, conversation.url, c => c.contributions.length === 3);
});

test("a reader's change is refused and never reaches the owner", async t => {
  const owner = await person(t, "owner");
  const reader = await person(t, "supervisor");
  const conversation = newConversation(owner, "Portfolio for the supervisor");
  contribute(conversation, owner, "First entry");
  await serverHas(server, owner.session, conversation.url, c => c.contributions.length === 1);
  await share(owner, conversation, "reader", reader, "Supervisor");

  const readerCopy = await reader.device.repo.find(conversation.url);
  assert.deepEqual(texts(plain(readerCopy)), ["First entry"]);
  // The adapter only logs protocol errors; listen on its socket for them.
  const errors = [];
  reader.device.adapter.socket.addEventListener("message", event => {
    const message = cbor.decode(new Uint8Array(event.data));
    if (message.type === "error") errors.push(message.message);
  });
  contribute(readerCopy, reader, "The reader tries to write");
  await eventually(
    () => errors.some(e => e.includes(conversation.documentId) && e.includes("read")),
    10_000,
    "the server to refuse the reader's change with an error naming the document",
  );

  // The reader still receives the owner's updates on the same connection...
  contribute(conversation, owner, "Second entry");
  await eventually(() => texts(plain(readerCopy)).includes("Second entry"), 10_000, "the owner's update to reach the reader");
  assert.ok(reader.device.online, "the reader's connection carries on");
  // ...and its own documents sync as ever.
  const own = reader.device.repo.create({ type: "fieldbook/entry", schemaVersion: 1, title: "Reader's own", notes: [] });
  await serverHas(server, reader.session, own.url, c => c.title === "Reader's own");

  // The owner, and the server, never had the reader's words.
  const onServer = await serverHas(server, owner.session, conversation.url, c => c.contributions.length === 2);
  assert.deepEqual(texts(onServer), ["First entry", "Second entry"]);
  // Nor was it relayed: the owner's live copy holds only the two entries.
  assert.deepEqual(texts(plain(conversation)), ["First entry", "Second entry"]);
});

test("removal makes the document unavailable to the peer's client, offline edits and all", async t => {
  const owner = await person(t, "owner");
  const peer = await person(t, "peer");
  const conversation = newConversation(owner, "A conversation that ends");
  contribute(conversation, owner, "Before");
  await serverHas(server, owner.session, conversation.url, c => c.contributions.length === 1);
  await share(owner, conversation, "writer", peer, "Alex");
  const peerCopy = await peer.device.repo.find(conversation.url);
  assert.deepEqual(texts(plain(peerCopy)), ["Before"]);

  // The peer's phone goes offline and edits; meanwhile the owner removes it.
  await offline(peer.device);
  contribute(peerCopy, peer, "Written offline after removal");
  const removed = await server.request("DELETE", `/api/documents/${conversation.documentId}/members/${peer.account.userId}`, {
    token: owner.token,
  });
  assert.equal(removed.status, 204);

  // Back online a while later: told it is unavailable, its root no longer
  // lists it, and nothing of its edit reaches the owner.
  const unavailableBefore = peer.device.received.filter(m => m.type === "doc-unavailable" && m.documentId === conversation.documentId).length;
  peer.device.goOnline();
  await eventually(
    () =>
      peer.device.received.filter(m => m.type === "doc-unavailable" && m.documentId === conversation.documentId).length >
      unavailableBefore,
    10_000,
    "the peer's client to be told the conversation is unavailable",
  );
  const root = await peer.device.root();
  await eventually(() => plain(root).shared?.[conversation.documentId] === undefined, 10_000, "the peer's root to drop it");
  // A fresh client of the peer's cannot open it at all.
  const probe = new Device(server, peer.session, "peer-probe");
  try {
    await assert.rejects(probe.repo.find(conversation.url), /unavailable/i);
  } finally {
    await probe.close();
  }
  contribute(conversation, owner, "After");
  const onServer = await serverHas(server, owner.session, conversation.url, c => c.contributions.length === 2);
  assert.deepEqual(texts(onServer), ["After", "Before"]);
  const shared = await server.request("GET", "/api/shared", { token: peer.token });
  assert.deepEqual(shared.body, []);
});
