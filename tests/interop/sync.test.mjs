// The official automerge-repo 2.5 Node client against the real fieldbook
// binary: convergence, merging, offline edits, access control, restarts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { splice } from "@automerge/automerge-repo";
import { Device, eventually, plain, serverHas } from "./device.mjs";
import { FieldbookServer, uniqueEmail } from "../support/server.mjs";
import { LatencyProxy } from "./latency.mjs";

let server;
const openDevices = new Set();

before(async () => {
  server = await FieldbookServer.start();
});

after(async () => {
  await Promise.all([...openDevices].map(d => d.close().catch(() => {})));
  await server?.destroy();
});

/**
 * A new signed-in device (its own login and its own Repo, no storage),
 * closed when `t` ends. `link` is what it syncs through (default: straight to the server).
 */
async function signIn(t, email, name, link = server) {
  const session = await server.login(email, name);
  const device = new Device(link, session, name);
  openDevices.add(device);
  t.after(async () => {
    openDevices.delete(device);
    await device.close();
  });
  return device;
}

/** What the app does to add an entry: create the entry document, then list it in the root. */
async function addEntry(device, fields = {}) {
  const root = await device.root();
  const entry = device.repo.create({
    type: "fieldbook/entry",
    schemaVersion: 1,
    title: "",
    notes: [],
    ...fields,
  });
  root.change(d => {
    d.entries[entry.documentId] = { addedAt: Date.now() };
  });
  return entry;
}

test("two devices of one user converge through the root document", async t => {
  const email = uniqueEmail("converge");
  const account = await server.register(email);
  const phone = await signIn(t, email, "phone");
  const laptop = await signIn(t, email, "laptop");
  assert.equal(phone.session.rootDocUrl, account.rootDocUrl);
  assert.equal(laptop.session.rootDocUrl, account.rootDocUrl);
  assert.notEqual(phone.session.deviceId, laptop.session.deviceId, "each login is a new device");

  const note = { id: "n1", kind: "text", text: "Used plain words; checked understanding" };
  const entry = await addEntry(phone, { title: "Home visit", notes: [note] });

  const laptopRoot = await laptop.root();
  await eventually(() => laptopRoot.doc().entries[entry.documentId], 10_000, "the laptop's root to list the new entry");
  assert.equal(typeof laptopRoot.doc().entries[entry.documentId].addedAt, "number");
  const copy = await laptop.repo.find(entry.url);
  assert.equal(copy.doc().type, "fieldbook/entry");
  assert.equal(copy.doc().title, "Home visit");
  assert.equal(copy.doc().notes[0].text, note.text);
});

// With some latency the root change (one message) overtakes the new entry
// (the sync protocol needs a round trip before it sends changes), so the
// other device asks for the entry while its upload is still in flight; the
// server must wait for the data rather than answer doc-unavailable.
test(
  "a device opens an entry as soon as its root lists it, with the creating device on a slow link",
  async t => {
    const email = uniqueEmail("slow-link");
    await server.register(email);
    const proxy = await LatencyProxy.start(server, 40); // 40 ms each way: an ordinary 4G link
    try {
      const phone = await signIn(t, email, "phone-on-4g", proxy);
      const laptop = await signIn(t, email, "laptop");
      const phoneRoot = await phone.root();
      const laptopRoot = await laptop.root();
      for (let i = 1; i <= 3; i++) {
        const entry = phone.repo.create({ type: "fieldbook/entry", schemaVersion: 1, title: `Entry ${i}`, notes: [] });
        phoneRoot.change(d => {
          d.entries[entry.documentId] = { addedAt: Date.now() };
        });
        await eventually(() => laptopRoot.doc().entries[entry.documentId], 10_000, `the laptop to list entry ${i}`);
        const copy = await laptop.repo.find(entry.url);
        assert.equal(copy.doc().title, `Entry ${i}`);
      }
    } finally {
      for (const device of [...openDevices]) await device.close();
      await proxy.close();
    }
  },
);

test("concurrent edits to the same text merge identically on both devices", async t => {
  const email = uniqueEmail("merge");
  await server.register(email);
  const phone = await signIn(t, email, "phone");
  const laptop = await signIn(t, email, "laptop");
  const entry = await addEntry(phone, { title: "Supervision notes" });
  // (Test 1 covers opening an entry as soon as it is listed; here, first make
  // sure the server has it so this test is only about merging.)
  await serverHas(server, phone.session, entry.url);
  const laptopCopy = await laptop.repo.find(entry.url);
  assert.equal(laptopCopy.doc().title, "Supervision notes");

  phone.goOffline();
  laptop.goOffline();
  await eventually(() => !phone.online && !laptop.online, 5_000, "both devices to be offline");
  entry.change(d => splice(d, ["title"], 0, 0, "Phone: "));
  laptopCopy.change(d => splice(d, ["title"], d.title.length, 0, " (laptop)"));
  assert.equal(entry.doc().title, "Phone: Supervision notes");
  assert.equal(laptopCopy.doc().title, "Supervision notes (laptop)");

  phone.goOnline();
  laptop.goOnline();
  const merged = "Phone: Supervision notes (laptop)";
  await eventually(() => entry.doc().title === merged, 10_000, `the phone's title to become ${JSON.stringify(merged)}`);
  await eventually(() => laptopCopy.doc().title === merged, 10_000, `the laptop's title to become ${JSON.stringify(merged)}`);
  assert.deepEqual(plain(entry), plain(laptopCopy));

  // The server itself holds the merge: a third device with nothing local gets it.
  const desk = await signIn(t, email, "desk");
  const deskCopy = await desk.repo.find(entry.url);
  assert.equal(deskCopy.doc().title, merged);
});

test("an edit made with no connection arrives after reconnecting", async t => {
  const email = uniqueEmail("offline");
  await server.register(email);
  const phone = await signIn(t, email, "phone");
  const laptop = await signIn(t, email, "laptop");
  const entry = await addEntry(phone, { title: "Court report", learning: "" });
  await serverHas(server, phone.session, entry.url);
  const laptopCopy = await laptop.repo.find(entry.url);
  assert.equal(laptopCopy.doc().title, "Court report");

  phone.goOffline();
  await eventually(() => !phone.online, 5_000, "the phone to be offline");
  const text = "Written in the car with no signal";
  entry.change(d => {
    d.learning = text;
  });
  assert.equal(laptopCopy.doc().learning, "", "nothing can arrive while the phone is offline");

  phone.goOnline();
  await eventually(() => laptopCopy.doc().learning === text, 10_000, "the offline edit to reach the laptop");
});

test("a second user who knows the document URL gets nothing", async t => {
  const ownerEmail = uniqueEmail("owner");
  await server.register(ownerEmail);
  const owner = await signIn(t, ownerEmail, "owner");
  const secret = "Confidential reflection about a family";
  const entry = await addEntry(owner, { title: secret, notes: [{ id: "n1", kind: "text", text: secret }] });
  // Make sure the server really holds the entry (so "unavailable" below is
  // access control, not a document that has not arrived yet).
  await serverHas(server, owner.session, entry.url, contents => contents.title === secret);

  const intruderEmail = uniqueEmail("intruder");
  const intruderAccount = await server.register(intruderEmail);
  const intruder = await signIn(t, intruderEmail, "intruder");
  await assert.rejects(intruder.repo.find(entry.url), /unavailable/i, "another user's entry must be unavailable");
  await assert.rejects(intruder.repo.find(owner.session.rootDocUrl), /unavailable/i, "another user's root must be unavailable");

  // At the protocol level: the server answered with doc-unavailable and sent
  // no sync data for either document.
  const foreign = new Set([entry.documentId, owner.session.rootDocUrl.replace(/^automerge:/, "")]);
  const aboutForeign = intruder.received.filter(m => foreign.has(m.documentId));
  assert.ok(aboutForeign.length >= 2, `expected doc-unavailable replies, got ${JSON.stringify(aboutForeign.map(m => m.type))}`);
  assert.deepEqual([...new Set(aboutForeign.map(m => m.type))], ["doc-unavailable"]);

  // The intruder's own root is a different document that does not list the entry.
  assert.notEqual(intruderAccount.rootDocUrl, owner.session.rootDocUrl);
  const intruderRoot = await intruder.root();
  assert.deepEqual(plain(intruderRoot).entries, {});
});

test("after a server restart a fresh device gets everything back", async t => {
  const email = uniqueEmail("restart");
  await server.register(email);
  const phone = await signIn(t, email, "phone");
  const first = await addEntry(phone, {
    title: "First entry",
    notes: [{ id: "n1", kind: "text", text: "Before the restart" }],
  });
  const second = await addEntry(phone, { title: "Second entry" });
  // A later edit too, so more than the first snapshot must survive.
  first.change(d => splice(d, ["title"], 0, 0, "Edited: "));
  second.change(d => {
    d.notes.push({ id: "n2", kind: "text", text: "Added after creation" });
  });
  const expected = { [first.documentId]: plain(first), [second.documentId]: plain(second) };

  // Make sure the server has everything before restarting.
  await serverHas(server, phone.session, phone.session.rootDocUrl, root => Object.keys(root.entries).length === 2);
  for (const entry of [first, second]) {
    const want = JSON.stringify(expected[entry.documentId]);
    await serverHas(server, phone.session, entry.url, contents => JSON.stringify(contents) === want);
  }
  // Disconnect every device before the server goes away.
  for (const device of [...openDevices]) await device.close();

  await server.stop();
  server = await FieldbookServer.start({ dataDir: server.dataDir });

  const fresh = await signIn(t, email, "new-laptop");
  const root = await fresh.root();
  assert.deepEqual(Object.keys(root.doc().entries).sort(), Object.keys(expected).sort());
  for (const entry of [first, second]) {
    const copy = await fresh.repo.find(entry.url);
    assert.deepEqual(plain(copy), expected[entry.documentId]);
  }
  // The device token issued before the restart still works.
  const me = await server.request("GET", "/api/me", { token: phone.session.token });
  assert.equal(me.status, 200, `GET /api/me with a pre-restart token: ${me.status} ${me.text}`);
  assert.equal(me.body.rootDocUrl, phone.session.rootDocUrl);
});

/** Attempts a WebSocket upgrade and resolves with the HTTP status of the refusal. */
function upgradeStatus(url, options) {
  return new Promise((resolveStatus, reject) => {
    const socket = new WebSocket(url, options);
    socket.on("unexpected-response", (_request, response) => {
      resolveStatus(response.statusCode);
      response.resume();
      socket.terminate();
    });
    socket.on("open", () => {
      socket.close();
      reject(new Error(`upgrade to ${url} was accepted`));
    });
    socket.on("error", error => reject(error));
  });
}

test("a WebSocket upgrade without valid credentials is refused with 401", async () => {
  assert.equal(await upgradeStatus(`ws://${server.host}/sync`), 401, "no credentials");
  assert.equal(await upgradeStatus(server.syncUrl("not-a-real-token")), 401, "a made-up token");
  assert.equal(
    await upgradeStatus(`ws://${server.host}/sync`, { headers: { authorization: "Bearer not-a-real-token" } }),
    401,
    "a made-up bearer token",
  );
});

test("the HTTP API answers as documented", async () => {
  const email = uniqueEmail("api");
  const account = await server.register(email);
  assert.match(account.rootDocUrl, /^automerge:/);
  const session = await server.login(email, "api device");
  assert.equal(session.userId, account.userId);
  assert.equal(session.rootDocUrl, account.rootDocUrl);
  const me = await server.request("GET", "/api/me", { token: session.token });
  assert.equal(me.status, 200);
  assert.deepEqual(
    { userId: me.body.userId, email: me.body.email, rootDocUrl: me.body.rootDocUrl },
    { userId: account.userId, email, rootDocUrl: account.rootDocUrl },
  );

  const noAuth = await server.request("GET", "/api/me");
  assert.equal(noAuth.status, 401);
  assert.equal(typeof noAuth.body?.error?.code, "string", `error body: ${noAuth.text}`);

  const wrong = await server.request("POST", "/api/auth/login", {
    body: { email, password: "definitely wrong password", deviceName: "x" },
  });
  assert.equal(wrong.status, 401, wrong.text);
  const short = await server.request("POST", "/api/auth/register", {
    body: { email: uniqueEmail("short"), password: "short" },
  });
  assert.equal(short.status, 400, short.text);
  assert.equal(typeof short.body?.error?.message, "string");
});
